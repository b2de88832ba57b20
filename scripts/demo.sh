#!/usr/bin/env bash
# The zero-credential demo: starts the local Elasticsearch stand-in and the Graph fixture server (a fake Microsoft
# tenant, DATA_SIZE=small|medium|large, default small) on free ports, writes a config and runs the service in the
# foreground. Ctrl-C stops the service, the stand-in and the fixture.
# It registers a `demo-teams` connector pointed at the fixture and one on-demand full sync with the `connectors`
# CLI, the way Kibana would, then runs the service: preflight, check-in, `connected`, the job claimed and the
# tenant synced into `search-demo-teams`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run="$root/.run/demo"
target="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$run"
"$root/scripts/install-osmem.sh"
(cd "$root" && cargo build -q --release -p elastic-ingest -p ftest --bins)

"$target/release/es-standin" --port 0 > "$run/es-standin.json" 2> "$run/es-standin.log" < /dev/null &
standin=$!
"$target/release/graph-fixture" --port 0 --data-size "${DATA_SIZE:-small}" --files-dir "$root/tests/corpus" \
  > "$run/graph-fixture.json" 2> "$run/graph-fixture.log" < /dev/null &
fixture=$!
cleanup() {
  kill "$standin" "$fixture" 2>/dev/null || true
  wait "$standin" "$fixture" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
for _ in $(seq 1 150); do [ -s "$run/es-standin.json" ] && break; sleep 0.2; done
es_url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$run/es-standin.json")
[ -n "$es_url" ] || { echo "demo: the stand-in did not start; see $run/es-standin.log" >&2; exit 1; }
for _ in $(seq 1 150); do [ -s "$run/graph-fixture.json" ] && break; sleep 0.2; done
graph=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$run/graph-fixture.json")
[ -n "$graph" ] || { echo "demo: the Graph fixture did not start; see $run/graph-fixture.log" >&2; exit 1; }

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
{"tenant_id": "fixture-tenant", "client_id": "fixture-client", "secret_value": "fixture-secret",
 "username": "adele@fixture.test", "password": "fixture-password",
 "graph_url": "$graph/v1.0", "login_url": "$graph"}
JSON
"$target/release/connectors" -c "$run/config.yml" connector create --connector-id demo-teams \
  --index-name search-demo-teams --from-file "$run/values.json" --update-config
"$target/release/connectors" -c "$run/config.yml" job start -i demo-teams -t full
echo "demo: Elasticsearch stand-in at $es_url, Graph fixture at $graph; config in $run/config.yml"
echo "demo: expected documents: curl -s $graph/_fixture/expected | head -c 300"
echo "demo: try: $target/release/connectors -c $run/config.yml job list"
echo "demo: starting elastic-ingest (Ctrl-C to stop)"
"$target/release/elastic-ingest" -c "$run/config.yml" "$@"
