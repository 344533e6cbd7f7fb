#!/usr/bin/env bash
# ShadowScore's own cost per instance: the demo's mirror events through ShadowScorer with in-memory
# stores, with one and two shadows (XGBoost; XGBoost + ML.NET). Usage: benchmarks/shadow.sh [events]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet run -c Release --project benchmarks/DarkShip.Serving.Benchmarks -- shadow --events "${1:-20000}"
