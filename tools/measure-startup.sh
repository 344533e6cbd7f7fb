#!/usr/bin/env bash
# Start-up of the published handler: from process start to its first 200 on GET / (the host's
# readiness check: the handler is ready once it has read the model registry), measured N times on the
# ReadyToRun package from ./publish.sh, against a private Azurite laid out as bicep/modules/storage.bicep
# lays out a fresh deployment: its tables exist, the registry is empty. With --no-tables the account is
# bare (the registry table missing too), as on a fresh local Azurite.
# Polls every millisecond with bash built-ins only (/dev/tcp, read -t): spawning curl or sleep per
# attempt costs ~17 ms of CPU each time on this 2-core machine and slows the very start-up it measures.
# With several packages, their runs take turns (A B A B …), so a machine that slows down or speeds
# up during the measurement weighs on each package alike.
# With --seed DIR, the first package seeds the account from a demo folder first (`demo seed --folder DIR`),
# so the instance loads every live model before it is ready: with demo/ that is two XGBoost models and the
# ML.NET challenger, the cost of ML.NET's first load; with a copy of demo/ without train.csv, XGBoost only.
# Usage: tools/measure-startup.sh [--no-tables] [--seed DIR] [package-dir …] [runs]
set -euo pipefail
pkgs=()
runs=10
tables=yes
seed=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  arg=${args[$i]}
  if [[ "$arg" =~ ^[0-9]+$ ]]; then runs=$arg
  elif [ "$arg" = --no-tables ]; then tables=no
  elif [ "$arg" = --seed ]; then i=$((i + 1)); seed=$(realpath "${args[$i]}")
  else pkgs+=("$arg"); fi
done
[ ${#pkgs[@]} -gt 0 ] || pkgs=(artifacts/package)
for i in "${!pkgs[@]}"; do
  [ -x "${pkgs[$i]}/DarkShip.Functions" ] || { echo "no package at ${pkgs[$i]}: run ./publish.sh first" >&2; exit 2; }
  pkgs[$i]=$(realpath "${pkgs[$i]}")
done
port=$((20000 + RANDOM % 20000))
cd "$(dirname "$0")/.."
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
source tools/private-azurite.sh
start_private_azurite 10130
export MirrorHub__fullyQualifiedNamespace="127.0.0.1:9"
# The runtime settings Azure starts the handler with (bicep/modules/functionapp.bicep's app settings, RuntimeSettings.AppSettings).
export DOTNET_EnableWriteXorExecute=0
if [ "$tables" = yes ]; then
  # The Bicep's table list, created with the JavaScript SDK (so the packages measured do none of it).
  names=$(sed -n '/^var tableNames = \[/,/^\]/p' bicep/modules/storage.bicep | grep -o "'[A-Za-z]*'" | tr -d "'")
  node --input-type=module -e '
    import { TableServiceClient, AzureNamedKeyCredential } from "@azure/data-tables";
    const [url, ...names] = process.argv.slice(1);
    const key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    const service = new TableServiceClient(url, new AzureNamedKeyCredential("devstoreaccount1", key), { allowInsecureConnection: true });
    for (const name of names) await service.createTable(name);' "http://127.0.0.1:10132/devstoreaccount1" $names
fi
if [ -n "$seed" ]; then
  "${pkgs[0]}/DarkShip.Functions" demo seed --folder "$seed" --settings /nonexistent >&2
fi

ready() {
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  local status
  read -r _ status _ <&3 || status=0
  exec 3<&-
  [ "$status" = "200" ]
}

exec {nap}<> <(:) # a pipe nobody writes: read -t on it is a sleep without a process
declare -A times=()
for _ in $(seq 1 "$runs"); do
  for pkg in "${pkgs[@]}"; do
    start=$(date +%s%N)
    FUNCTIONS_CUSTOMHANDLER_PORT=$port "$pkg/DarkShip.Functions" serve >/dev/null 2>&1 &
    pid=$!
    until ready; do read -r -t 0.001 -u "$nap" || true; done
    end=$(date +%s%N)
    kill "$pid"; wait "$pid" 2>/dev/null || true
    times[$pkg]+="$(( (end - start) / 1000000 )) "
  done
done
for pkg in "${pkgs[@]}"; do
  sorted=($(printf '%s\n' ${times[$pkg]} | sort -n))
  label=""; [ ${#pkgs[@]} -gt 1 ] && label=" of $pkg"
  echo "start-up to readiness$label over $runs runs (ms): min ${sorted[0]}, median ${sorted[$((runs / 2))]}, max ${sorted[$((runs - 1))]}"
done
