#!/usr/bin/env bash
# Lays out the deployable function-app package in artifacts/package:
#   host.json, one folder per function with its function.json (generated from the catalog in code),
#   and the self-contained linux-x64 ReadyToRun executable the host launches (DarkShip.Functions),
#   trimmed and compiled as one composite image with the framework, so that a cold start loads
#   little and JITs almost nothing (docs/performance.md has the measurements). The image is compiled
#   for x86-64-v3 (AVX2, BMI, FMA, which the x64 machines Azure runs Functions on have): for the default baseline,
#   the framework's vectorized search and text code is left out of the image and JIT-compiled at start,
#   ~100 methods before the first registry read. On a CPU without AVX2 the runtime would not use the
#   image's code and would JIT-compile instead: slower to start, same results.
# Usage: ./publish.sh [output-folder]
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-artifacts/package}"
rm -rf "$out"
mkdir -p "$out"
# Built in a tree of its own (--artifacts-path): the publish's build (no PDBs, other properties) never
# overwrites the development build's bin/ folders, which a test run may be building from at the same time.
dotnet publish src/DarkShip.Functions -c Release -r linux-x64 --self-contained --artifacts-path .build/publish \
  -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true -p:PublishReadyToRunCrossgen2ExtraArgs=--instruction-set:x86-64-v3 -p:PublishTrimmed=true -p:DebugType=none -o "$out" --nologo -v q -clp:ErrorsOnly
cp host.json "$out/"
"$out/DarkShip.Functions" functions generate --output "$out"
echo "package: $out ($(du -sh "$out" | cut -f1))"
