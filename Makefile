# PhotoFlow: `make run` starts everything, `make test` runs the tests. Both set up what is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: help venv up down status run test test-unit bench lint web chromium

help:
	@echo "make run    start Kafka, PostgreSQL, Redis and the platform (API on :8000)"
	@echo "make test   run the unit, integration and end-to-end tests on the real services"
	@echo "make bench  run the benchmarks"
	@echo "make up / make down / make status   the local services alone"
	@echo "make lint   ruff and mypy"
	@echo "make web    build the web app (web/dist) when it is missing or older than its sources"
	@echo "make chromium   install Debian's chromium for the browser tests"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

venv: $(STAMP)

# The web app (web/): `npm ci` when node_modules is older than the lock file, `npm run build`
# (API types from the OpenAPI document, tsc, vite) when dist is older than any source, config
# or the Python that defines the API.
WEB_DEPS := web/node_modules/.installed
WEB_BUILT := web/dist/.built
WEB_SOURCES := $(shell find web/src web/public web/e2e -type f ! -name schema.d.ts ! -name openapi.json 2>/dev/null) \
	$(wildcard web/*.html web/*.ts web/*.js web/package.json web/tsconfig*.json) $(wildcard queries/*.py)

$(WEB_DEPS): web/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20+"; exit 1; }
	cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	@touch $@

$(WEB_BUILT): $(WEB_DEPS) $(WEB_SOURCES) | $(STAMP)
	cd web && npm run build
	@touch $@

web: $(WEB_BUILT)

# The browser tests drive Debian's chromium (no browser download here).
chromium: /usr/bin/chromium

/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; \
	else echo "installing chromium needs root or sudo: apt-get install chromium"; exit 1; fi; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

up: venv
	$(PY) -m infra.stack up

down: venv
	$(PY) -m infra.stack down

status: venv
	$(PY) -m infra.stack status

# API processes (one per core) and a process per worker, under one supervisor, unless
# PHOTOFLOW_PROCESSES says otherwise (`make run PHOTOFLOW_PROCESSES=single`: one process).
run: up web
	PHOTOFLOW_DEMO=1 PHOTOFLOW_PROCESSES=$${PHOTOFLOW_PROCESSES:-auto} $(PY) -m infra run

test: up web chromium
	$(PY) -m pytest

test-unit: venv
	$(PY) -m pytest tests/unit

# `make bench` runs them all; `make bench gallery serving` only those named.
BENCHMARKS := commands relay rebuild freshness storage signin albums renditions serving stream \
	audit gallery history
.PHONY: $(BENCHMARKS)

bench: up web chromium
	$(PY) -m bench $(filter $(BENCHMARKS),$(MAKECMDGOALS))

$(BENCHMARKS):
	@:

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
