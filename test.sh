#!/usr/bin/env bash
# Runs every test of the solution and ends with one line: tests: N passed, N failed[, N skipped].
# Exits non-zero if anything failed (or nothing ran).
set -uo pipefail
cd "$(dirname "$0")"

[ -d node_modules/azurite ] || npm ci --no-audit --no-fund >/dev/null

# Debian packages the tests need: python3-xgboost (the round-trip test trains a model on an exported
# training set with real XGBoost), python3-avro (an independent reader of the Capture files DarkShip writes)
# and libgomp1 (OpenMP: LightGBM's native library, which ML.NET's LightGBM trainer and models load).
wanted=()
/usr/bin/python3 -c "import xgboost" 2>/dev/null || wanted+=(python3-xgboost)
/usr/bin/python3 -c "import avro.datafile" 2>/dev/null || wanted+=(python3-avro)
ldconfig -p 2>/dev/null | grep -q 'libgomp\.so\.1' || wanted+=(libgomp1)
# Chromium: the report page's browser test drives it (Playwright, with Debian's browser: nothing is downloaded);
# fonts-liberation: Arial's metrics, which the report's charts are laid out with.
[ -x /usr/bin/chromium ] || wanted+=(chromium)
fc-list 2>/dev/null | grep -q 'LiberationSans-Regular' || wanted+=(fonts-liberation)
if [ ${#wanted[@]} -gt 0 ]; then
  echo "test.sh: installing ${wanted[*]} (Debian)"
  apt=(apt-get); [ "$(id -u)" -eq 0 ] || apt=(sudo apt-get)
  { "${apt[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null; } ||
    echo "test.sh: could not install ${wanted[*]}; the tests that need them will fail (apt-get install ${wanted[*]})"
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
