#!/usr/bin/env bash
# The same model family in three formats, one BenchmarkDotNet run: DarkShip's engine (XGBoost JSON),
# ONNX Runtime (the same trees as a TreeEnsemble) and ML.NET (FastTree on the same rows).
# Single row, a batch of 10,000 rows and load time, with allocations and ratios.
# Needs Debian's python3-xgboost and python3-onnx: apt-get install -y python3-xgboost python3-onnx
set -euo pipefail
cd "$(dirname "$0")/.."
/usr/bin/python3 benchmarks/formats_fixtures.py
DARKSHIP_BENCH_DIR="$PWD/.bench" dotnet run -c Release --project benchmarks/DarkShip.Scoring.Benchmarks -- --filter '*FormatsBenchmarks*' --job short "$@"
