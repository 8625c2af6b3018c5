# The index of tasks. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)
export REFLEX_USE_NPM := 1
export REFLEX_TELEMETRY_ENABLED := false
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export TEST_DATABASE_URL
PYTEST_ARGS ?=

.PHONY: help venv install install-dev run dev migrate test lint format lambda-zip clean

help:
	@echo "make run         start the app (UI :3000, API :8000) with its queue, worker and demo site"
	@echo "make dev         the same in development mode: hot reload on code changes"
	@echo "make test        install test tools and run the test suite against PostgreSQL"
	@echo "make migrate     apply database migrations"
	@echo "make lint        ruff"
	@echo "make lambda-zip  build the AWS Lambda deployment zip"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python -m ingest_app db upgrade

# The product as it is deployed: a production build, made once at start, then served.
run: install
	$(BIN)/python -m ingest_app db upgrade
	$(BIN)/python -m ingest_app dev

# For working on the code: `reflex run` in development mode (hot reload, React StrictMode).
dev: install
	$(BIN)/python -m ingest_app db upgrade
	$(BIN)/python -m ingest_app dev --reload

test: install-dev
	@command -v chromium >/dev/null || ./scripts/install-system-deps.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check ingest_app lambda_worker devtools tests bench scripts

format:
	$(BIN)/ruff format ingest_app lambda_worker devtools tests bench scripts

lambda-zip: $(BIN)/python
	$(BIN)/python scripts/build_lambda_zip.py

clean:
	rm -rf $(VENV) .web build dist .pytest_cache
