#!/usr/bin/env bash
# Point reads against one Azurite on loopback: DarkShip's TableClient and the JavaScript SDK
# (@azure/data-tables) read the same seeded entities, one after the other, at 1 and 8 in flight.
# Prints each side's reads/s, p50 and p99, and the throughput ratio (DarkShip / reference).
# Usage: benchmarks/tables_side_by_side.sh [reads]    (needs npm ci)
set -euo pipefail
cd "$(dirname "$0")/.."
reads="${1:-5000}"
entities=2000
port=$((30000 + RANDOM % 20000))
node node_modules/azurite/dist/src/azurite.js --silent --disableTelemetry --skipApiVersionCheck --loose --inMemoryPersistence \
  --tableHost 127.0.0.1 --tablePort "$port" --blobPort $((port + 1)) --queuePort $((port + 2)) &
azurite=$!
trap 'kill $azurite 2>/dev/null' EXIT
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
  kill -0 $azurite 2>/dev/null || { echo "Azurite did not start" >&2; exit 1; }
  sleep 0.1
done

account=devstoreaccount1
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
conn="DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;TableEndpoint=http://127.0.0.1:$port/$account;BlobEndpoint=http://127.0.0.1:$((port + 1))/$account"
dotnet build benchmarks/DarkShip.Storage.Benchmarks -c Release -o .bench/storage -v q -clp:ErrorsOnly --nologo >/dev/null
bench=.bench/storage/DarkShip.Storage.Benchmarks
"$bench" seed "$conn" features "$entities"

for concurrency in 1 8; do
  ours=$("$bench" read "$conn" features "$entities" "$reads" "$concurrency")
  theirs=$(node benchmarks/tables_point_reads.mjs "http://127.0.0.1:$port/$account" features "$entities" "$reads" "$concurrency")
  echo "$ours"
  echo "$theirs"
  python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(f'concurrency {a[\"concurrency\"]}: DarkShip {a[\"per_second\"]:.0f}/s (p50 {a[\"p50_ms\"]:.2f} ms, p99 {a[\"p99_ms\"]:.2f} ms) vs @azure/data-tables {b[\"per_second\"]:.0f}/s (p50 {b[\"p50_ms\"]:.2f} ms, p99 {b[\"p99_ms\"]:.2f} ms): ratio {a[\"per_second\"]/b[\"per_second\"]:.2f}x')" "$ours" "$theirs"
done
