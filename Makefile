# PhotoFlow: `make run` starts everything, `make test` runs the tests. Both set up what is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: help venv up down status run test test-unit bench lint

help:
	@echo "make run    start Kafka, PostgreSQL, Redis and the platform (API on :8000)"
	@echo "make test   run the unit, integration and end-to-end tests on the real services"
	@echo "make bench  run the benchmarks"
	@echo "make up / make down / make status   the local services alone"
	@echo "make lint   ruff and mypy"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

venv: $(STAMP)

up: venv
	$(PY) -m infra.stack up

down: venv
	$(PY) -m infra.stack down

status: venv
	$(PY) -m infra.stack status

run: up
	PHOTOFLOW_DEMO=1 $(PY) -m infra run

test: up
	$(PY) -m pytest

test-unit: venv
	$(PY) -m pytest tests/unit

bench: up
	$(PY) -m bench

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
