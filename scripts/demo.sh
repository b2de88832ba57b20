#!/usr/bin/env bash
# The zero-credential demo (`make run`): builds release binaries, starts the Elasticsearch stand-in and the Graph
# fixture server (a fake Microsoft tenant; DATA_SIZE=small|medium|large, default small) on free ports, creates a
# connector through the connector APIs as Kibana would, runs the service for one full sync, prints the documents
# per type and an example search, and stops everything. KEEP=1 keeps the stack and the service (syncing every
# minute) running until Ctrl-C. Extra arguments go to the driver (ftest/src/bin/ftest.rs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
"$root/scripts/install-osmem.sh"
(cd "$root" && cargo build -q --release --locked -p elastic-ingest -p ftest --bins)
mkdir -p "$root/.run/demo"
keep=()
[ -n "${KEEP:-}" ] && keep=(--keep-running)
DATA_SIZE="${DATA_SIZE:-small}" exec "$target/release/ftest" microsoft_teams --demo \
  --work-dir "$root/.run/demo" "${keep[@]}" "$@"
