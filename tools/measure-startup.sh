#!/usr/bin/env bash
# Start-up of the published handler: from process start to its first 200 on GET / (the host's
# readiness check), measured N times on the ReadyToRun package from ./publish.sh.
# Usage: tools/measure-startup.sh [package-dir] [runs]
set -euo pipefail
pkg="${1:-artifacts/package}"
runs="${2:-10}"
[ -x "$pkg/DarkShip.Functions" ] || { echo "no package at $pkg: run ./publish.sh first" >&2; exit 2; }
port=$((20000 + RANDOM % 20000))
times=()
for _ in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  FUNCTIONS_CUSTOMHANDLER_PORT=$port "$pkg/DarkShip.Functions" serve >/dev/null 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.002; done
  end=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  times+=($(( (end - start) / 1000000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "start-up to readiness over $runs runs (ms): min ${sorted[0]}, median ${sorted[$((runs / 2))]}, max ${sorted[$((runs - 1))]}"
