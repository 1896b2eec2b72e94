# scimgate: the commands a newcomer and CI run. `make test` is what .ci/run runs.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run test lint chart unit clients conformance bench bench-tokens bench-sync services build

## Start the gateway (embedded SQLite at ./data/scimgate.db unless SCIMGATE__DATABASE__URL is set).
run:
	$(CARGO) run -p scimgate -- serve

build:
	$(CARGO) build -p scimgate

## Make sure PostgreSQL, Redis, Node.js and Python are here and running (installs them on Debian).
services:
	scripts/ensure-services.sh

## Every test: formatting, lints, the Helm chart and deployment files (offline), unit and
## integration tests on SQLite and PostgreSQL, real OAuth2 clients and JWT attacks against the
## running binary, the admin API against its OpenAPI document, then the Okta and Microsoft
## conformance suites against the running binary.
test: services lint chart unit clients conformance

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## The Helm chart (lint, render, kubernetes-validate --strict, yamllint, the values schema against
## helm/scimgate/examples/bad) and deploy/ (hadolint, compose), offline in target/helm-venv.
chart:
	tests/helm/run.sh

unit:
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		echo "cargo-nextest not found: running cargo test (install it with: cargo install cargo-nextest --locked)"; \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

## Real third-party clients (authlib, requests-oauthlib, PyJWT) and RFC 8725 / RFC 9700 attacks
## against the binary on PostgreSQL + Redis; the admin API against docs/openapi/admin.json.
clients: build
	tests/oauth/run.sh
	tests/admin/run.sh

conformance: build
	python3 -m unittest discover -s tests/conformance -p 'test_*.py'
	tests/conformance/run.sh

## Benchmarks (not tests): PATCH latency by group size and filtered GET throughput on PostgreSQL.
bench:
	benches/run.sh

## Benchmark (not a test): client_credentials tokens per second, scimgate against oidc-provider.
bench-tokens:
	benches/tokens.sh

## Benchmark (not a test): a 10,000-member group pushed with team sync on, until every member's
## effective access is stored (PostgreSQL + Redis, serve scim / authz / sync).
bench-sync:
	benches/team_sync.sh
