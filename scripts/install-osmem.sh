#!/usr/bin/env bash
# Installs the Elasticsearch stand-in's storage engine, osmem-server (PyPI), into a project-local virtualenv
# and links its bundled binary to .venv/osmem-server, where the es-standin front looks for it.
# Idempotent: does nothing when the pinned version is already there.
set -euo pipefail
OSMEM_VERSION="0.1.6"
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
link="$venv/osmem-server"

if [ -x "$link" ] && [ -f "$venv/.osmem-$OSMEM_VERSION" ]; then
  exit 0
fi
python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "install-osmem: python3 not found (needed for the osmem-server wheel)" >&2; exit 1; }
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "osmem-server==$OSMEM_VERSION"
bin=$("$venv/bin/python" -c 'import osmem_server; print(osmem_server.resolve_binary())')
chmod +x "$bin"
ln -sf "$bin" "$link"
touch "$venv/.osmem-$OSMEM_VERSION"
echo "install-osmem: osmem-server $OSMEM_VERSION at $link"
