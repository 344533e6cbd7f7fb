#!/usr/bin/env bash
# Table Storage clients side by side, one Azurite on loopback, one run: Azure.Data.Tables as DarkShip
# builds it (StorageClients), the hand-written REST client it replaced (commit 8970bfb, kept under
# benchmarks/DarkShip.Storage.Benchmarks/HandWritten only) and the JavaScript SDK (@azure/data-tables).
# Operations: point reads at 1 and 8 in flight, a 100-action transaction, a 1,000-row partition query.
# Prints each client's JSON line per operation and the ratios against the SDK (higher is faster),
# plus the .NET clients' allocated bytes per operation.
# Usage: benchmarks/tables_side_by_side.sh [reads] [rounds]    (needs npm ci)
set -euo pipefail
cd "$(dirname "$0")/.."
reads="${1:-5000}"
rounds="${2:-100}"
entities=2000
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
source tools/private-azurite.sh
start_private_azurite $((30000 + RANDOM % 20000))
conn="$AzureWebJobsStorage"
url=$(sed -E 's/.*TableEndpoint=([^;]+).*/\1/' <<<"$conn")
dotnet build benchmarks/DarkShip.Storage.Benchmarks -c Release -o .bench/storage -v q -clp:ErrorsOnly --nologo >/dev/null
bench=.bench/storage/DarkShip.Storage.Benchmarks
"$bench" seed "$conn" features "$entities"
"$bench" read rest "$conn" features "$entities" "$reads" 8 >/dev/null # warm Azurite up first: the first client measured would pay for it

compare() { # sdk rest node
  python3 - "$@" <<'PY'
import json, sys
sdk, rest, node = (json.loads(a) for a in sys.argv[1:])
for r in (sdk, rest, node):
    alloc = f", {r['allocated_bytes_per_op']:.0f} B allocated/op" if 'allocated_bytes_per_op' in r else ""
    print(f"  {r['client']:28} {r['per_second']:9.1f}/s  p50 {r['p50_ms']:8.2f} ms  p99 {r['p99_ms']:8.2f} ms{alloc}")
print(f"  ratios: Azure.Data.Tables / hand-written = {sdk['per_second']/rest['per_second']:.2f}x throughput, "
      f"{sdk['p99_ms']/rest['p99_ms']:.2f}x p99; Azure.Data.Tables / @azure/data-tables = {sdk['per_second']/node['per_second']:.2f}x throughput")
PY
}

for concurrency in 1 8; do
  echo "point reads, $concurrency in flight ($reads reads):"
  sdk=$("$bench" read sdk "$conn" features "$entities" "$reads" "$concurrency")
  rest=$("$bench" read rest "$conn" features "$entities" "$reads" "$concurrency")
  node=$(node benchmarks/tables_reference.mjs read "$url" features "$entities" "$reads" "$concurrency")
  compare "$sdk" "$rest" "$node"
done
echo "100-action transaction ($rounds rounds):"
compare "$("$bench" tx sdk "$conn" features "$rounds")" "$("$bench" tx rest "$conn" features "$rounds")" "$(node benchmarks/tables_reference.mjs tx "$url" features "$rounds")"
echo "1,000-row partition query ($rounds rounds):"
compare "$("$bench" query sdk "$conn" features "$rounds")" "$("$bench" query rest "$conn" features "$rounds")" "$(node benchmarks/tables_reference.mjs query "$url" features "$rounds")"
