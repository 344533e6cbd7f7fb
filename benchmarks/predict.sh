#!/usr/bin/env bash
# The predict path under load (issue 5's goals), in one run:
#   1. in process: the handler's own work (in-memory features) and the mirror's cost on it, at a fixed rate;
#   2. end to end: a private Azurite, the demo seeded, `darkship local`, and a fixed-rate load generator
#      posting random demo entities over HTTP on loopback.
# Usage: benchmarks/predict.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=20; [ "${1:-}" = "--quick" ] && seconds=5
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund

dotnet build benchmarks/DarkShip.Serving.Benchmarks -c Release -o .build/bench-serving --nologo -v q -clp:ErrorsOnly
dotnet build src/DarkShip.Functions -c Release -o .build/darkship --nologo -v q -clp:ErrorsOnly

echo "== in process (1000 req/s) =="
dotnet .build/bench-serving/DarkShip.Serving.Benchmarks.dll inprocess --rate 1000 --seconds "$seconds"

source tools/private-azurite.sh
start_private_azurite 10100
data=$azurite_data
export Logging__LogLevel__Default=Warning
dotnet .build/darkship/DarkShip.Functions.dll demo seed --folder demo --settings /nonexistent >/dev/null
dotnet .build/darkship/DarkShip.Functions.dll local --port 7171 --settings /nonexistent >"$data/local.log" 2>&1 &
cleanup_pids+=($!)
for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/7171) 2>/dev/null && break; kill -0 "${cleanup_pids[1]}" || { cat "$data/local.log" >&2; exit 1; }; sleep 0.1; done

for rate in 100 300; do
  echo "== end to end against Azurite ($rate req/s) =="
  dotnet .build/bench-serving/DarkShip.Serving.Benchmarks.dll http --url http://127.0.0.1:7171 --rate "$rate" --seconds "$seconds"
done
