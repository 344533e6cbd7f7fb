#!/usr/bin/env bash
# Start-up to readiness of the published handler beside its floor, in one run and in turns:
# benchmarks/StartupFloor (an empty Kestrel app answering GET /), published exactly as ./publish.sh
# publishes DarkShip, and DarkShip's package, each launched as the host launches it by
# tools/measure-startup.sh (its own Azurite, the Bicep's tables, an empty registry, the app settings'
# runtime settings). Prints both medians and DarkShip's excess over the floor.
# Usage: benchmarks/startup.sh [runs]   (default 21)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-21}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
./publish.sh "$work/darkship" >/dev/null
dotnet publish benchmarks/StartupFloor -c Release -r linux-x64 --self-contained -p:DarkShipPackage=true --artifacts-path .build/publish-floor \
  -o "$work/floor" --nologo -v q -clp:ErrorsOnly
result=$(tools/measure-startup.sh "$work/darkship" "$work/floor" "$runs")
echo "$result"
darkship=$(echo "$result" | grep "of $work/darkship " | sed -E 's/.*median ([0-9]+).*/\1/')
floor=$(echo "$result" | grep "of $work/floor " | sed -E 's/.*median ([0-9]+).*/\1/')
echo "DarkShip ready in ${darkship} ms, the Kestrel floor in ${floor} ms: +$((darkship - floor)) ms ($(awk -v a="$darkship" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')x)"
