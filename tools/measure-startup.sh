#!/usr/bin/env bash
# Start-up of the published handler: from process start to its first 200 on GET / (the host's
# readiness check: the handler is ready once it has read the model registry), measured N times on the
# ReadyToRun package from ./publish.sh, against a private Azurite with an empty registry.
# Polls every millisecond with bash built-ins only (/dev/tcp, read -t): spawning curl or sleep per
# attempt costs ~17 ms of CPU each time on this 2-core machine and slows the very start-up it measures.
# Usage: tools/measure-startup.sh [package-dir] [runs]
set -euo pipefail
pkg="${1:-artifacts/package}"
runs="${2:-10}"
[ -x "$pkg/DarkShip.Functions" ] || { echo "no package at $pkg: run ./publish.sh first" >&2; exit 2; }
pkg=$(realpath "$pkg")
port=$((20000 + RANDOM % 20000))
cd "$(dirname "$0")/.."
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
source tools/private-azurite.sh
start_private_azurite 10130
export MirrorHub__fullyQualifiedNamespace="127.0.0.1:9"

ready() {
  { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || return 1
  printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
  local status
  read -r _ status _ <&3 || status=0
  exec 3<&-
  [ "$status" = "200" ]
}

exec {nap}<> <(:) # a pipe nobody writes: read -t on it is a sleep without a process
times=()
for _ in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  FUNCTIONS_CUSTOMHANDLER_PORT=$port "$pkg/DarkShip.Functions" serve >/dev/null 2>&1 &
  pid=$!
  until ready; do read -r -t 0.001 -u "$nap" || true; done
  end=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  times+=($(( (end - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "start-up to readiness over $runs runs (ms): min ${sorted[0]}, median ${sorted[$((runs / 2))]}, max ${sorted[$((runs - 1))]}"
