#!/usr/bin/env bash
# DriftMonitor's cost (issue 7): one run over the demo champion's aggregates filled with 10,000,
# 100,000 and 1,000,000 logged predictions, with a 1-hour and a 24-hour drift window.
# Usage: benchmarks/drift.sh [predictions]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build benchmarks/DarkShip.Serving.Benchmarks -c Release -o .build/bench-serving --nologo -v q -clp:ErrorsOnly
dotnet .build/bench-serving/DarkShip.Serving.Benchmarks.dll drift --predictions "${1:-1000000}"
