#!/usr/bin/env bash
# The cost of one POST of 1,000 outcomes (issue 24, item 9): a private Azurite, a registry of N models,
# 1,000 logged predictions of one of them, then OutcomeService joining the outcomes, timed, with the
# storage requests counted. Usage: benchmarks/outcomes.sh [models, default 10] [outcomes, default 1000]
set -euo pipefail
cd "$(dirname "$0")/.."
models="${1:-10}"; outcomes="${2:-1000}"
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
dotnet build benchmarks/DarkShip.Serving.Benchmarks -c Release -o .build/bench-serving --nologo -v q -clp:ErrorsOnly

data=$(mktemp -d); pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
node node_modules/azurite/dist/src/azurite.js --silent --disableTelemetry --skipApiVersionCheck --loose --location "$data" \
  --blobHost 127.0.0.1 --blobPort 10120 --queueHost 127.0.0.1 --queuePort 10121 --tableHost 127.0.0.1 --tablePort 10122 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/10122) 2>/dev/null && break; sleep 0.1; done
export AzureWebJobsStorage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10120/devstoreaccount1;TableEndpoint=http://127.0.0.1:10122/devstoreaccount1"
dotnet .build/bench-serving/DarkShip.Serving.Benchmarks.dll outcomes --models "$models" --outcomes "$outcomes"
