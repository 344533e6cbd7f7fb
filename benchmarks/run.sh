#!/usr/bin/env bash
# Scoring benchmarks: side by side with XGBoost 1.7.4 (ratios), then BenchmarkDotNet.
# Needs Debian's python3-xgboost: apt-get install -y python3-xgboost
set -euo pipefail
cd "$(dirname "$0")/.."
/usr/bin/python3 benchmarks/xgboost_side_by_side.py
if [ "${1:-}" != "--quick" ]; then
  DARKSHIP_BENCH_DIR="$PWD/.bench" dotnet run -c Release --project benchmarks/DarkShip.Scoring.Benchmarks -- --filter '*' --job short
fi
