#!/usr/bin/env bash
# Starts or stops the local Elasticsearch stand-in (osmem-server behind the es-standin front) in the background.
#   scripts/es-standin.sh up   [PORT]   start on PORT (default $ES_PORT or 9200); prints the URL
#   scripts/es-standin.sh down          stop it
#   scripts/es-standin.sh url           print the URL of the running one
# State lives in .run/ (pid, ready line, log). Credentials: elastic / changeme.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
run="$root/.run"
pidfile="$run/es-standin.pid"
ready="$run/es-standin.json"
log="$run/es-standin.log"
mkdir -p "$run"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
url() { sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$ready"; }

case "${1:-}" in
  up)
    port=${2:-${ES_PORT:-9200}}
    if running; then echo "es-standin already running at $(url)"; exit 0; fi
    "$root/scripts/install-osmem.sh"
    bin="${CARGO_TARGET_DIR:-$root/target}/debug/es-standin"
    # Always build: a no-op when up to date, and never a stale stand-in.
    (cd "$root" && cargo build -q -p ftest --bin es-standin)
    : > "$ready"
    # setsid: the stand-in outlives this script; `down` stops it.
    setsid "$bin" --port "$port" > "$ready" 2> "$log" < /dev/null &
    echo $! > "$pidfile"
    for _ in $(seq 1 150); do
      if [ -s "$ready" ]; then echo "es-standin running at $(url) (user elastic, password changeme)"; exit 0; fi
      if ! running; then echo "es-standin failed to start; see $log:" >&2; tail -5 "$log" >&2; exit 1; fi
      sleep 0.2
    done
    echo "es-standin did not report ready within 30 s; see $log" >&2; exit 1
    ;;
  down)
    if running; then
      kill "$(cat "$pidfile")" && echo "es-standin stopped"
      for _ in $(seq 1 50); do running || break; sleep 0.1; done
    else
      echo "es-standin is not running"
    fi
    rm -f "$pidfile" "$ready"
    ;;
  url)
    running && url || { echo "es-standin is not running" >&2; exit 1; }
    ;;
  *)
    echo "usage: $0 up [PORT] | down | url" >&2; exit 2
    ;;
esac
