#!/usr/bin/env bash
# Runs every test of the solution and ends with one line: tests: N passed, N failed[, N skipped].
# Exits non-zero if anything failed (or nothing ran).
set -uo pipefail
cd "$(dirname "$0")"

[ -d node_modules/azurite ] || npm ci --no-audit --no-fund >/dev/null

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
