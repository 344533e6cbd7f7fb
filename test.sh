#!/usr/bin/env bash
# Runs every test of the solution and ends with one line: tests: N passed, N failed[, N skipped].
# Exits non-zero if anything failed (or nothing ran).
set -uo pipefail
cd "$(dirname "$0")"

[ -d node_modules/azurite ] || npm ci --no-audit --no-fund >/dev/null

# The round-trip test trains a model on an exported training set with real XGBoost: Debian's python3-xgboost.
if ! /usr/bin/python3 -c "import xgboost" 2>/dev/null; then
  echo "test.sh: installing python3-xgboost (Debian) for the round-trip test"
  apt=(apt-get); [ "$(id -u)" -eq 0 ] || apt=(sudo apt-get)
  { "${apt[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends python3-xgboost >/dev/null; } ||
    echo "test.sh: could not install python3-xgboost; the round-trip test will fail (apt-get install python3-xgboost)"
fi

results=.build/test-results
rm -rf "$results"
dotnet test Functions.sln -c Release --nologo --logger "trx" --results-directory "$results" "$@"
status=$?

passed=0 failed=0 skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done

summary="tests: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
