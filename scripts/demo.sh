#!/usr/bin/env bash
# The zero-credential demo: starts the local Elasticsearch stand-in on a free port, writes a config for it and
# runs the service in the foreground. Ctrl-C stops the service and the stand-in.
# It registers a `demo-teams` connector (dummy credentials) and one on-demand job with the `connectors` CLI, the way
# Kibana would, then runs the service: preflight, check-in, `connected`, the job claimed and run. The Teams sync
# engine is not in this build yet, so the job ends `error` saying exactly that.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run="$root/.run/demo"
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$run"
"$root/scripts/install-osmem.sh"
(cd "$root" && cargo build -q --release -p elastic-ingest -p ftest --bins)

"$target/release/es-standin" --port 0 > "$run/es-standin.json" 2> "$run/es-standin.log" < /dev/null &
standin=$!
cleanup() { kill "$standin" 2>/dev/null || true; wait "$standin" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for _ in $(seq 1 150); do [ -s "$run/es-standin.json" ] && break; sleep 0.2; done
es_url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$run/es-standin.json")
[ -n "$es_url" ] || { echo "demo: the stand-in did not start; see $run/es-standin.log" >&2; exit 1; }

cat > "$run/config.yml" <<YAML
# Written by scripts/demo.sh for the local stand-in.
elasticsearch:
  host: $es_url
  username: elastic
  password: changeme
service:
  idling: 5
connectors:
  - connector_id: demo-teams
    service_type: microsoft_teams
YAML
cat > "$run/values.json" <<JSON
{"tenant_id": "demo-tenant", "client_id": "demo-client", "secret_value": "demo-secret",
 "username": "demo@example.com", "password": "demo-password"}
JSON
"$target/release/connectors" -c "$run/config.yml" connector create --connector-id demo-teams \
  --index-name search-demo-teams --from-file "$run/values.json" --update-config
"$target/release/connectors" -c "$run/config.yml" job start -i demo-teams -t full
echo "demo: Elasticsearch stand-in at $es_url; config in $run/config.yml"
echo "demo: try: $target/release/connectors -c $run/config.yml job list"
echo "demo: starting elastic-ingest (Ctrl-C to stop)"
"$target/release/elastic-ingest" -c "$run/config.yml" "$@"
