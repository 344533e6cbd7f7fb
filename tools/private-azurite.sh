# Sourced by the benchmark and measuring scripts: a private Azurite on loopback, its data in a
# temporary folder, stopped (and the folder removed) when the script exits.
#   source tools/private-azurite.sh; start_private_azurite 10120
# Ports: blob BASE, queue BASE+1, table BASE+2. Exports AzureWebJobsStorage for that Azurite and sets
# $azurite_data (the folder, free for the script's own files) and $azurite_pid. Other processes the
# script starts can be added to $cleanup_pids to be stopped with it. With AZURITE_IN_MEMORY=1 the
# emulator keeps its data in memory only (--inMemoryPersistence): it then never rewrites its whole
# database file to disk, which on a large account costs it more than the requests themselves.
cleanup_pids=()
start_private_azurite() {
  local base=$1
  azurite_data=$(mktemp -d)
  local storage=(--location "$azurite_data"); [ "${AZURITE_IN_MEMORY:-0}" = 1 ] && storage=(--inMemoryPersistence)
  node node_modules/azurite/dist/src/azurite.js --silent --disableTelemetry --skipApiVersionCheck --loose "${storage[@]}" \
    --blobHost 127.0.0.1 --blobPort "$base" --queueHost 127.0.0.1 --queuePort $((base + 1)) --tableHost 127.0.0.1 --tablePort $((base + 2)) >/dev/null 2>&1 &
  azurite_pid=$!
  cleanup_pids+=("$azurite_pid")
  trap 'for p in "${cleanup_pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$azurite_data"' EXIT
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$((base + 2))") 2>/dev/null && break
    kill -0 "$azurite_pid" 2>/dev/null || { echo "Azurite did not start" >&2; exit 1; }
    sleep 0.1
  done
  export AzureWebJobsStorage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$base/devstoreaccount1;TableEndpoint=http://127.0.0.1:$((base + 2))/devstoreaccount1"
}
