#!/usr/bin/env bash
# The soak (issue 20; not in CI): a private Azurite, the demo seeded with the challenger shadowing at
# 100 %, the whole local system in one process, predictions at a fixed rate for N minutes; a line a
# minute with requests, errors, p50/p99, RSS and GC heap. Memory must be flat after warm-up.
# Usage: [AZURITE_IN_MEMORY=1] benchmarks/soak.sh [rate, default 10: what one Azurite on two cores carries] [minutes, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
rate="${1:-10}"; minutes="${2:-10}"
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
dotnet build benchmarks/DarkShip.Serving.Benchmarks -c Release -o .build/bench-serving --nologo -v q -clp:ErrorsOnly
source tools/private-azurite.sh
start_private_azurite 10140
dotnet .build/bench-serving/DarkShip.Serving.Benchmarks.dll soak --rate "$rate" --minutes "$minutes"
