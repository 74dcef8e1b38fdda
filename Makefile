# Headshot: `make run` starts the app on embedded defaults; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
RUN := $(UV) run --frozen --python $(PYTHON)
HOST ?= 127.0.0.1
PORT ?= 8443

.DEFAULT_GOAL := help
.PHONY: help setup run serve worker test check lint format typecheck pytest browser-deps bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced  ## create the environment from the lock file

run: setup  ## start the app on https://localhost:$(PORT) with embedded defaults (it migrates SQLite itself)
	$(RUN) headshot serve --host $(HOST) --port $(PORT)

serve: run  ## alias of run

worker: setup  ## start a background worker (scale-out mode, needs HEADSHOT_REDIS_URL)
	$(RUN) headshot worker

lint: setup  ## ruff check and format check
	$(RUN) ruff check src tests bench
	$(RUN) ruff format --check src tests bench

format: setup  ## apply ruff format and safe fixes
	$(RUN) ruff check --fix src tests bench
	$(RUN) ruff format src tests bench

typecheck: setup  ## mypy strict
	$(RUN) mypy

browser-deps:  ## Debian's chromium for the browser tests (skipped when not root and absent)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: browser tests will skip"; }

pytest: setup
	$(RUN) pytest

test: lint typecheck browser-deps pytest  ## set up, lint, type-check and run the whole test suite

check: test

bench: setup  ## run the benchmarks
	$(RUN) python bench/validation.py
	$(RUN) python bench/export.py

clean:  ## remove the environments and caches
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
