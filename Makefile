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

AXE := tests/browser/axe/node_modules/axe-core/axe.min.js

browser-deps: $(AXE)  ## Debian's chromium and axe-core (npm) for the browser tests (skipped when not root and absent)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: browser tests will skip"; }

# axe-core, pinned by tests/browser/axe/package-lock.json, checks every screen for accessibility.
$(AXE): tests/browser/axe/package.json tests/browser/axe/package-lock.json
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null); } || true
	@if command -v npm >/dev/null; then npm ci --prefix tests/browser/axe --no-audit --no-fund --silent && touch $@; else echo "npm not installed: accessibility checks will skip"; fi

pytest: setup  ## the test suite with line coverage; fails under the floor in pyproject.toml
	$(RUN) pytest --cov=headshot --cov-report=term:skip-covered

test: lint typecheck browser-deps pytest  ## set up, lint, type-check and run the whole test suite

check: test

bench: setup  ## run the benchmarks
	$(RUN) python bench/validation.py
	$(RUN) python bench/export.py
	$(RUN) python bench/page_weight.py

clean:  ## remove the environments and caches
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
