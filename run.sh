#!/usr/bin/env bash
# Runs the whole DarkShip system on this machine: Azurite (Table + Blob storage), the function
# app's handler, and local stand-ins for the host's HTTP, Event Hubs and timer triggers.
# Usage: ./run.sh [--port 7071] [--partitions 4] [--demo-traffic 5]
set -euo pipefail
cd "$(dirname "$0")"

[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
[ -f local.settings.json ] || cp local.settings.sample.json local.settings.json
mkdir -p .azurite

# Azurite keeps its data in memory: its disk mode rewrites the whole database file as the model log grows,
# which soon starves every request on a laptop (feature reads time out, answers come back degraded). AZURITE_PERSIST=1 keeps the data in .azurite/ across runs instead.
if [ "${AZURITE_PERSIST:-0}" = 1 ]; then
  storage=(--location .azurite); where="data in .azurite/"
else
  storage=(--inMemoryPersistence); where="data in memory: AZURITE_PERSIST=1 keeps it in .azurite/"
fi

# Azurite on loopback (its log in the git-ignored .azurite folder). Refuse to start over another one.
for port in 10000 10002; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "run.sh: port $port is taken (another Azurite still running?); stop it first." >&2
    exit 1
  fi
done
npx --no-install azurite --silent --disableTelemetry --skipApiVersionCheck --loose "${storage[@]}" \
  --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 >.azurite/azurite.log 2>&1 &
azurite_pid=$!
stop() {
  kill "$azurite_pid" 2>/dev/null || true
  wait "$azurite_pid" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/10002) 2>/dev/null && break
  kill -0 "$azurite_pid" 2>/dev/null || { echo "run.sh: Azurite failed to start; see .azurite/azurite.log" >&2; exit 1; }
  sleep 0.1
done
echo "Azurite: tables http://127.0.0.1:10002, blobs http://127.0.0.1:10000 ($where)"

dotnet build src/DarkShip.Functions -c Release -o .build/darkship --nologo -v q -clp:ErrorsOnly
# Demo features (consumer, store) and the demo fraud model as champion; a no-op when already seeded (AZURITE_PERSIST=1).
dotnet .build/darkship/DarkShip.Functions.dll demo seed --folder demo --settings local.settings.json
# With the demo's callers (5 fraud predictions a second, each outcome shortly after), so the report page
# (http://127.0.0.1:7071/report/fraud) shows the challengers climbing the ladder; --demo-traffic 0 sends none.
demo=(--demo-traffic 5)
for arg in "$@"; do [[ "$arg" == --demo-traffic* ]] && demo=(); done
dotnet .build/darkship/DarkShip.Functions.dll local --settings local.settings.json "${demo[@]}" "$@"
