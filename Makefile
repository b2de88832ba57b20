# Everything a developer or CI runs. `make run` is the demo; `make test` is what CI (.ci/run) runs.
CARGO ?= cargo

.PHONY: build test lint unit ftest docker-lint docker-check run es-install es-up es-down clean bench bench-engine bench-extract bench-source bench-e2e

## Release builds: target/release/elastic-ingest and target/release/connectors.
build:
	$(CARGO) build --release --locked -p elastic-ingest

## The whole check: installs the ES stand-in if missing, then formatting, lints, every test and the functional
## test on the small fixture tenant.
test: es-install lint docker-lint
	$(CARGO) build --locked --workspace --bins
	$(CARGO) test --locked --workspace
	$(MAKE) ftest NAME=microsoft_teams DATA_SIZE=small
	$(MAKE) build
	$(MAKE) docker-check

## docker/ without a container engine: hadolint + yamllint, and the image's build command = `make build`'s.
docker-lint:
	scripts/docker-lint.sh

## The image's command lines (no arguments; Elastic's documented `/app/bin/elastic-ingest -c /config/config.yml`)
## run in a root laid out like the image, against the stand-in. Needs root, the release and stand-in binaries.
docker-check: es-install
	$(CARGO) build --locked -p ftest --bin es-standin
	scripts/docker-run-check.py

## The functional test: make ftest NAME=microsoft_teams [DATA_SIZE=small|medium|large] (default medium).
NAME ?= microsoft_teams
DATA_SIZE ?= medium
ftest: es-install
	$(CARGO) build --locked -p elastic-ingest -p ftest --bins
	DATA_SIZE=$(DATA_SIZE) $${CARGO_TARGET_DIR:-target}/debug/ftest $(NAME)

## Tests only (no lint), for a quick loop.
unit: es-install
	$(CARGO) test --workspace

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

## The zero-credential demo: local stand-in + service. Extra arguments: make run ARGS="--debug".
run:
	scripts/demo.sh $(ARGS)

es-install:
	scripts/install-osmem.sh

## Benchmarks: print numbers and write them to BENCHMARKS.md (never asserted in tests).
bench: bench-engine bench-extract bench-source bench-e2e

bench-extract:
	$(CARGO) bench --locked --bench extract

bench-source:
	$(CARGO) build --release --locked -p ftest --bin graph-fixture
	$(CARGO) bench --locked --bench source

bench-e2e: es-install
	$(CARGO) build --release --locked -p elastic-ingest -p ftest --bins
	$(CARGO) bench --locked --bench e2e

bench-engine: es-install
	$(CARGO) build --release --locked -p ftest --bins
	$(CARGO) bench --locked --bench engine

## Start / stop the Elasticsearch stand-in on localhost:9200 (ES_PORT=... to change), user elastic/changeme.
es-up:
	scripts/es-standin.sh up

es-down:
	scripts/es-standin.sh down

clean:
	$(CARGO) clean
	rm -rf .run
