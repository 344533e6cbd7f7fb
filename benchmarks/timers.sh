#!/usr/bin/env bash
# The timers at fleet size (issue 21, point 4): a private Azurite, N models (default 50) registered from
# the demo's XGBoost files with three live versions each (champion, shadow at 10 %, experiment at 50 %)
# and two hours of five-minute aggregate windows per version; then DriftMonitor and PromoteModels, as
# the handler wires them, timed over five runs. Usage: benchmarks/timers.sh [models]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
dotnet build benchmarks/DarkShip.Serving.Benchmarks -c Release -o .build/bench-serving --nologo -v q -clp:ErrorsOnly
source tools/private-azurite.sh
start_private_azurite 10140
dotnet .build/bench-serving/DarkShip.Serving.Benchmarks.dll timers --models "${1:-50}"
