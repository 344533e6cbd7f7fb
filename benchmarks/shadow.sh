#!/usr/bin/env bash
# ShadowScore per instance (issue 21, point 3): first its own cost, the demo's mirror events through ShadowScorer
# with in-memory stores, with one, two and three shadows; then through its invocation path as the host calls it
# (POST /ShadowScore to the handler on Kestrel, batches of 100 from four partitions at once) against a private
# Azurite kept in memory (no database file rewritten on every save), with one and three shadows, and which storage
# calls the time went to. Usage: benchmarks/shadow.sh [events in memory, default 20000] [events over HTTP, default 4000]
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-20000}"
http_events="${2:-4000}"
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
dotnet build benchmarks/DarkShip.Serving.Benchmarks -c Release -o .build/bench-serving --nologo -v q -clp:ErrorsOnly
dotnet .build/bench-serving/DarkShip.Serving.Benchmarks.dll shadow --events "$events"
source tools/private-azurite.sh
AZURITE_IN_MEMORY=1 start_private_azurite 10150
dotnet .build/bench-serving/DarkShip.Serving.Benchmarks.dll shadow-http --events "$http_events"
