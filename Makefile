# spoke: `make run` to start on SQLite, `make test` to run every test. `make help` lists all.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test venv migrate worker cron lint format bench bench-full clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP) ## Create or update the virtualenv

migrate: $(STAMP) ## Apply database migrations (DATABASE_URL, default instance/spoke.db)
	$(BIN)/flask --app app db upgrade

run: migrate ## Set up and serve on http://127.0.0.1:$(PORT) (SQLite, in-process jobs)
	PORT=$(PORT) $(BIN)/python -m spoke

test: $(STAMP) ## Set up and run the whole test suite (layer contracts first)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest $(PYTEST_ARGS)

worker: $(STAMP) ## Scale-out: run an RQ worker, restarted with a backoff if it exits (REDIS_URL, DATABASE_URL)
	$(BIN)/python -m spoke.runtime.worker

cron: $(STAMP) ## Scale-out: run the RQ cron process that enqueues the release and outbox sweeps every minute
	$(BIN)/rq cron --url "$$REDIS_URL" jobs/cron.py

lint: $(STAMP) ## Lint, check formatting and the layer contracts
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports --no-cache

format: $(STAMP) ## Format the code
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

bench: $(STAMP) ## Benchmarks at 10k/100k (<= 5 min; PostgreSQL too with TEST_DATABASE_URL); rewrites BENCHMARKS.md
	$(BIN)/python -m bench.run

bench-full: $(STAMP) ## The benchmarks plus 1M contacts and a 1M-row import (< 30 min)
	$(BIN)/python -m bench.run --full

clean: ## Remove the virtualenv (keeps instance/ data)
	rm -rf $(VENV)
