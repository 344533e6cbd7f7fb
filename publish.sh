#!/usr/bin/env bash
# Lays out the deployable function-app package in artifacts/package:
#   host.json, one folder per function with its function.json (generated from the catalog in code),
#   and the self-contained linux-x64 ReadyToRun executable the host launches (DarkShip.Functions),
#   trimmed and compiled as one composite image with the framework, so that a cold start loads
#   little and JITs almost nothing (-p:DarkShipPackage=true: the settings are in Directory.Build.props;
#   docs/performance.md has the measurements).
# Usage: ./publish.sh [output-folder]
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-artifacts/package}"
rm -rf "$out"
mkdir -p "$out"
# Built in a tree of its own (--artifacts-path): the publish's build (no PDBs, other properties) never
# overwrites the development build's bin/ folders, which a test run may be building from at the same time.
dotnet publish src/DarkShip.Functions -c Release -r linux-x64 --self-contained -p:DarkShipPackage=true --artifacts-path .build/publish -o "$out" --nologo -v q -clp:ErrorsOnly
cp host.json "$out/"
"$out/DarkShip.Functions" functions generate --output "$out"
echo "package: $out ($(du -sh "$out" | cut -f1))"
