#!/usr/bin/env bash
# Export and replay throughput (issue 9): a private Azurite, a model log of N predictions over 24 hours
# (each logged for a champion and a shadow, half of them labelled) and consumer and store features the
# log does not hold (2,000 consumers, 200 stores; one snapshot per entity, and fifty across the day);
# then, timed with each process's peak memory: `darkship export` of one version to CSV, to JSONL, to Parquet,
# to CSV from the same predictions as Event Hubs Capture files (compared with the table's), to CSV
# with --features (the extra features read as of each prediction, from entity histories), and
# `darkship replay` of a model trained on that export with real XGBoost (tools/train_from_export.py).
# Usage: benchmarks/export.sh [predictions, default 100000]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-100000}"
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
dotnet build benchmarks/DarkShip.Serving.Benchmarks -c Release -o .build/bench-serving --nologo -v q -clp:ErrorsOnly
dotnet build src/DarkShip.Functions -c Release -o .build/darkship --nologo -v q -clp:ErrorsOnly

source tools/private-azurite.sh
start_private_azurite 10110
data=$azurite_data
darkship() { dotnet .build/darkship/DarkShip.Functions.dll "$@" --settings /nonexistent; }

dotnet .build/bench-serving/DarkShip.Serving.Benchmarks.dll seed-log --rows "$rows"
manifest() { # name, suffix of the feature groups ("" = one snapshot per entity, 50 = fifty across the day)
  cat > "$data/$1" <<JSON
{ "name": "bench", "output": "probability", "groups": { "consumer$2": {}, "store$2": {} }, "features": [
  { "name": "f0", "type": "number" }, { "name": "f1", "type": "number" }, { "name": "f2", "type": "number" }, { "name": "f3", "type": "number" },
  { "name": "f4", "type": "number" }, { "name": "f5", "type": "number" }, { "name": "f6", "type": "number" }, { "name": "f7", "type": "number" },
  { "name": "ctx", "group": "consumer$2", "property": "ctx", "type": "number" },
  { "name": "store_ctx", "group": "store$2", "property": "ctx", "type": "number" } ] }
JSON
}
manifest manifest.json ""
manifest manifest50.json 50

timed() { # label, output file, darkship arguments...: wall time, rows/s and the process's peak resident memory
  local label=$1 file=$2; shift 2
  local start end pid peak=0 hwm
  start=$(date +%s.%N)
  dotnet .build/darkship/DarkShip.Functions.dll "$@" --settings /nonexistent 2>/dev/null & pid=$! # the process itself, so /proc/$pid is DarkShip's
  while kill -0 "$pid" 2>/dev/null; do
    hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    sleep 0.2
  done
  wait "$pid"; end=$(date +%s.%N)
  echo "$label: $(awk -v s="$start" -v e="$end" -v n="$rows" 'BEGIN { printf "%d rows in %.1f s = %.0f rows/s", n, e - s, n / (e - s) }') ($(du -h "$file" | cut -f1), peak memory $((peak / 1024)) MB)"
}
range=(--model bench --from 2026-11-01 --to 2026-11-02)
timed "export csv" "$data/train.csv" export "${range[@]}" --version 1 --format csv --output "$data/train.csv"
timed "export jsonl" "$data/train.jsonl" export "${range[@]}" --version 1 --format jsonl --output "$data/train.jsonl"
timed "export parquet" "$data/train.parquet" export "${range[@]}" --version 1 --format parquet --output "$data/train.parquet"
timed "export csv --source capture" "$data/train-capture.csv" export "${range[@]}" --version 1 --format csv --output "$data/train-capture.csv" --source capture
cmp -s "$data/train.csv" "$data/train-capture.csv" && echo "export from Capture: identical to the export from the table" || echo "export from Capture: DIFFERS from the export from the table"
timed "export csv --features (1 snapshot per entity)" "$data/train-pit.csv" export "${range[@]}" --version 1 --format csv --output "$data/train-pit.csv" --features "$data/manifest.json"
timed "export csv --features (50 snapshots per entity)" "$data/train-pit50.csv" export "${range[@]}" --version 1 --format csv --output "$data/train-pit50.csv" --features "$data/manifest50.json"
/usr/bin/python3 tools/train_from_export.py --input "$data/train-pit.csv" --manifest "$data/manifest.json" --output "$data/model.json" >/dev/null
timed "replay (1 snapshot per entity)" "$data/replay.csv" replay "${range[@]}" --candidate "$data/model.json" --manifest "$data/manifest.json" --output "$data/replay.csv"
timed "replay (50 snapshots per entity)" "$data/replay50.csv" replay "${range[@]}" --candidate "$data/model.json" --manifest "$data/manifest50.json" --output "$data/replay50.csv"
