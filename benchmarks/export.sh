#!/usr/bin/env bash
# Export throughput (issue 9): a private Azurite, a model log of N predictions over 24 hours (each
# logged for a champion and a shadow, half of them labelled), then `darkship export` of one version to
# CSV and to JSONL, timed. Usage: benchmarks/export.sh [predictions, default 100000]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-100000}"
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
dotnet build benchmarks/DarkShip.Serving.Benchmarks -c Release -o .build/bench-serving --nologo -v q -clp:ErrorsOnly
dotnet build src/DarkShip.Functions -c Release -o .build/darkship --nologo -v q -clp:ErrorsOnly

data=$(mktemp -d); pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
node node_modules/azurite/dist/src/azurite.js --silent --disableTelemetry --skipApiVersionCheck --loose --location "$data" \
  --blobHost 127.0.0.1 --blobPort 10110 --queueHost 127.0.0.1 --queuePort 10111 --tableHost 127.0.0.1 --tablePort 10112 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/10112) 2>/dev/null && break; sleep 0.1; done
export AzureWebJobsStorage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10110/devstoreaccount1;TableEndpoint=http://127.0.0.1:10112/devstoreaccount1"

dotnet .build/bench-serving/DarkShip.Serving.Benchmarks.dll seed-log --rows "$rows"
for format in csv jsonl; do
  start=$(date +%s.%N)
  dotnet .build/darkship/DarkShip.Functions.dll export --model bench --from 2026-11-01 --to 2026-11-02 --version 1 \
    --format "$format" --output "$data/train.$format" --settings /nonexistent 2>/dev/null
  end=$(date +%s.%N)
  lines=$(wc -l < "$data/train.$format")
  echo "$format: $(awk -v s="$start" -v e="$end" -v n="$rows" 'BEGIN { printf "%d rows in %.1f s = %.0f rows/s", n, e - s, n / (e - s) }') ($lines lines, $(du -h "$data/train.$format" | cut -f1))"
done
