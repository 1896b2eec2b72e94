# scimgate: the commands a newcomer and CI run. `make test` is what .ci/run runs.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test lint unit conformance bench services build

## Start the gateway (embedded SQLite at ./data/scimgate.db unless SCIMGATE__DATABASE__URL is set).
run:
	$(CARGO) run -p scimgate -- serve

build:
	$(CARGO) build -p scimgate

## Make sure PostgreSQL, Redis, Node.js and Python are here and running (installs them on Debian).
services:
	scripts/ensure-services.sh

## Every test: formatting, lints, unit and integration tests on SQLite and PostgreSQL, then the
## Okta and Microsoft conformance suites against the running binary on PostgreSQL.
test: services lint unit conformance

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		echo "cargo-nextest not found: running cargo test (install it with: cargo install cargo-nextest --locked)"; \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

conformance: build
	python3 -m unittest discover -s tests/conformance -p 'test_*.py'
	tests/conformance/run.sh

## Benchmarks (not tests): PATCH latency by group size and filtered GET throughput on PostgreSQL.
bench:
	benches/run.sh
