# Pejling — two commands: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# A Python 3.12+ interpreter: the first found on PATH, else one installed by pyenv.
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python3.13 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.13 /usr/local/bin/python3.12 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then command -v $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/pejling
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Compiled bytecode is kept (__pycache__, ignored by git; `make clean` removes it): with
# PYTHONDONTWRITEBYTECODE set, every test process and every `pejling` the tests start compiles
# the project again, and pytest rewrites the asserts of its plugins (hypothesis, schemathesis,
# faker) again, some seconds of each process.
unexport PYTHONDONTWRITEBYTECODE
# The test passes use both cores. --dist loadscope keeps a test module (or a test class) on one
# worker, so that module-scoped set-ups (the permission matrix's scene, the identity providers
# of the SSO tests) are built once rather than on each worker. The demo organisation is loaded
# once per worker and restored from a snapshot for each module that needs it (tests/conftest.py).
PYTEST_PARALLEL := -n 2 --dist loadscope

.PHONY: help install demo serve migrate messages static lint typecheck audit test test-sqlite test-postgres test-browser bench clean

help:
	@echo "make demo   install, migrate, load the demo organisation and serve on http://127.0.0.1:8000"
	@echo "make test   everything: lint, type-check, tests on SQLite and PostgreSQL, browser tests"
	@echo "            (make test takes about 13 minutes on 2 cores, idle; the narrower targets below take a few minutes each)"
	@echo "make lint | typecheck | test-sqlite | test-postgres | test-browser | audit | bench"
	@echo "make clean  remove everything make and the tests wrote (.venv, node_modules, data, caches, compiled catalogues)"

# No Python 3.12+ on PATH (Debian 12 ships 3.11): try uv (https://docs.astral.sh/uv/), which
# installs a standalone CPython inside its own cache; else say how to get one (README).
ifeq ($(strip $(PYTHON)),)
PYTHON := $(shell command -v uv >/dev/null 2>&1 && uv python install --quiet 3.12 >/dev/null 2>&1 && uv python find 3.12 2>/dev/null)
endif

$(BIN)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Pejling needs Python 3.12 or newer, and none was found (Debian 12's own python3 is 3.11)."; \
		echo "Install uv (apt-get install pipx && pipx install uv, or see https://docs.astral.sh/uv/) and run make again: it fetches Python 3.12 itself;"; \
		echo "or on Ubuntu: add-apt-repository ppa:deadsnakes/ppa && apt-get install python3.12-venv; or pyenv install 3.12. See README.md, 'Python 3.12 on Debian and Ubuntu'."; exit 1; }
	@command -v xmlsec1 >/dev/null || { apt-get update -qq && apt-get install -y -qq xmlsec1; }  # SAML (pysaml2)
	@# Documents: WeasyPrint's Pango and HarfBuzz, the fonts of the PDFs, pdftoppm/pdftotext for checks.
	@{ ldconfig -p | grep -q libpangoft2-1.0 && ldconfig -p | grep -q libharfbuzz-subset && fc-list | grep -q NotoSerif-Regular && command -v pdftoppm >/dev/null; } || \
		{ apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fonts-dejavu-core poppler-utils; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(BIN)/.installed node_modules/.installed messages

messages: $(BIN)/.installed
	@command -v msgfmt >/dev/null || { apt-get update -qq && apt-get install -y -qq gettext; }
	cd src/pejling && ../../$(BIN)/pejling compilemessages -v0

static: install
	$(BIN)/pejling collectstatic --noinput -v0

migrate: install
	$(BIN)/pejling migrate --noinput -v1

demo: migrate static
	$(BIN)/pejling demo
	@echo "Serving on http://127.0.0.1:8000 (Ctrl-C stops)"
	PEJLING_PUBLIC_SITE=true PEJLING_BIND=127.0.0.1:8000 $(BIN)/pejling serve

serve: static
	$(BIN)/pejling serve

lint: install
	$(BIN)/ruff check src tests e2e
	$(BIN)/ruff format --check src tests e2e
	PYTHONPATH=src $(BIN)/lint-imports --config pyproject.toml

typecheck: install
	$(BIN)/mypy

# Known vulnerabilities in the installed packages (PyPI's advisory data; the project itself is
# skipped). --strict: a package that cannot be checked (e.g. PyPI unreachable) fails the audit.
audit: install
	@$(BIN)/python -m pip_audit --vulnerability-service pypi --skip-editable --strict \
		--progress-spinner off || { echo "make audit: FAILED: a known vulnerability is listed above, or PyPI's vulnerability data (https://pypi.org/pypi/<name>/<version>/json) could not be reached."; exit 1; }

test-sqlite: install
	DATABASE_URL= $(BIN)/pytest tests -q -p no:cacheprovider $(PYTEST_PARALLEL)

# The PostgreSQL pass runs the tests that use the database (--database-tests-only, see
# tests/conftest.py): those that touch none (parsers, formatters, property tests of pure
# functions) ran in the SQLite pass and would run there identically again.
test-postgres: install
	bash scripts/ensure-postgres.sh
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest tests -q -p no:cacheprovider $(PYTEST_PARALLEL) --database-tests-only

test-browser: install
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-postgres.sh
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest e2e -q -p no:cacheprovider $(PYTEST_PARALLEL)

# The SQLite and PostgreSQL passes run side by side (each with its two workers): much of their
# time is spent waiting (child processes starting, servers answering, PostgreSQL writing), so
# together they take about three quarters of one after the other. Each pass's output is shown
# whole when it ends (--output-sync). Then the browser pass, alone: its timings want the cores.
test: lint typecheck
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres
	$(MAKE) --no-print-directory test-browser
	@echo "All checks passed."

BENCH_SCALE ?= small
bench: install
	bash scripts/ensure-postgres.sh
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/pejling_bench $(BIN)/python -m bench
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/pejling_bench $(BIN)/pejling bench --scale $(BENCH_SCALE) --json

# Everything make, the tests and the tools write inside the project folder (nothing is written outside it).
clean:
	rm -rf $(VENV) node_modules data .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache \
		src/*.egg-info build dist e2e/screenshots test-results playwright-report
	find src -name '*.mo' -path '*/locale/*' -delete
	find src tests e2e bench -name __pycache__ -type d -prune -exec rm -rf {} +
