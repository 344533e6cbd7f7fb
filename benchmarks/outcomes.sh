#!/usr/bin/env bash
# The cost of one POST of 1,000 outcomes (issue 24, item 9): a private Azurite, a registry of N models,
# 1,000 logged predictions of one of them, then OutcomeService joining the outcomes, timed, with the
# storage requests counted. With a third argument (a build of the same benchmark at another commit,
# e.g. the one before outcomes found their model by id), both run in turns on the one Azurite, so the
# figures share the machine's weather.
# Usage: benchmarks/outcomes.sh [models, default 10] [outcomes, default 1000] [other-build-dir] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
models="${1:-10}"; outcomes="${2:-1000}"; other="${3:-}"; rounds="${4:-3}"
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
dotnet build benchmarks/DarkShip.Serving.Benchmarks -c Release -o .build/bench-serving --nologo -v q -clp:ErrorsOnly
source tools/private-azurite.sh
start_private_azurite 10120
for round in $(seq 1 "$rounds"); do
  if [ -n "$other" ]; then
    echo "round $round, other build:   $(dotnet "$other/DarkShip.Serving.Benchmarks.dll" outcomes --models "$models" --outcomes "$outcomes")"
  fi
  echo "round $round, this checkout: $(dotnet .build/bench-serving/DarkShip.Serving.Benchmarks.dll outcomes --models "$models" --outcomes "$outcomes")"
done
