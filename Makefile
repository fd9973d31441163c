# kap12 -- everyday commands.
#
#   make run        install into .venv, set up the instance, print the demo
#                   log-ins and serve the web UI
#   make test       install, check the rules (make lint), make sure Chromium
#                   and PostgreSQL are on the machine (apt-get, when root),
#                   run the test suite
#   make lint       the rules tools can check: import-linter contracts, ruff,
#                   mypy, and the write-path rule (tools/write_path_rule.py)
#   make bench      run the benchmarks in benchmarks/
#   make clean      remove instance/ and test-output/ (keeps .venv)
#   make distclean  clean, and remove .venv and build leftovers too
#
# Works from a fresh clone, as root or as a normal user.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Extra arguments for pytest, e.g. make test PYTEST_ARGS='-x -k postgres'
PYTEST_ARGS ?=

export KAP12_TEST_OUTPUT ?= test-output
export DEBIAN_FRONTEND := noninteractive

.PHONY: help install run lint test runtime-deps system-deps bench clean distclean

help:
	@echo "make run        install, init, print demo log-ins, serve"
	@echo "make test       install, lint, system packages for tests, pytest"
	@echo "make lint       import-linter, ruff, mypy and the write-path rule"
	@echo "make bench      run benchmarks/*.py"
	@echo "make clean      remove instance/ and test-output/"
	@echo "make distclean  clean, and remove .venv"

# pip is the last thing venv installs: if it is missing, an earlier set-up was cut short.
$(BIN)/pip:
	$(PYTHON) -m venv --clear $(VENV)

# One stamp: reinstall only when pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/pip
	$(BIN)/pip install -e '.[dev]'
	@touch $@

install: $(STAMP)

run: $(STAMP) runtime-deps
	$(BIN)/kap12 init
	$(BIN)/kap12 demo
	$(BIN)/kap12 serve

# Installs the Debian packages named in $$need: as root with apt-get (only when something is
# missing), otherwise a note saying what to install.
APT_INSTALL = \
	if [ -z "$$need" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "Installing system packages:$$need"; \
	  apt-get update && apt-get install -y --no-install-recommends $$need; \
	else \
	  echo "NOTE: kap12 needs these Debian packages:$$need"; \
	  echo "NOTE: install them as root with: apt-get install$$need"; \
	fi

# Pango (WeasyPrint's text layout) and DejaVu fonts: the PDF documents need them.
runtime-deps:
	@need=""; \
	if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0'; then need="$$need libpango-1.0-0 libpangoft2-1.0-0"; fi; \
	if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then need="$$need fonts-dejavu-core"; fi; \
	$(APT_INSTALL)

# Debian's chromium and postgresql, for the browser and database tests.
system-deps: runtime-deps
	@need=""; \
	if [ -n "$$CHROMIUM" ] && [ -x "$$CHROMIUM" ]; then :; \
	elif [ ! -x /usr/bin/chromium ]; then need="$$need chromium"; fi; \
	if ! command -v pdftoppm >/dev/null; then need="$$need poppler-utils"; fi; \
	if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then \
	  need="$$need postgresql"; fi; \
	$(APT_INSTALL)

# Each tool names the rule a violation breaks: the contract's name (import-linter), the rule
# code (ruff, mypy) or [write-path]. All four run, so one failure does not hide another.
lint: $(STAMP)
	@status=0; \
	echo "== import-linter (the rooms' import contracts, pyproject.toml [tool.importlinter])"; \
	$(BIN)/lint-imports --no-cache || status=1; \
	echo "== ruff (pyproject.toml [tool.ruff])"; \
	$(BIN)/ruff check . || status=1; \
	echo "== mypy engine/ processes/ (pyproject.toml [tool.mypy])"; \
	$(BIN)/mypy || status=1; \
	echo "== write-path rule (tools/write_path_rule.py)"; \
	$(BIN)/python tools/write_path_rule.py || status=1; \
	if [ $$status -ne 0 ]; then echo "make lint: a rule above is broken"; fi; \
	exit $$status

# One worker per core (pytest-xdist), each test file whole on one worker: the files' module
# fixtures (a database with the demo school, a browser) are built once, and each worker has its
# own PostgreSQL and Chromium. PYTEST_WORKERS=0 runs in one process (e.g. to use pdb).
PYTEST_WORKERS ?= auto

test: $(STAMP) lint system-deps
	@mkdir -p "$(KAP12_TEST_OUTPUT)"
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: $(STAMP)
	@$(BIN)/python -c 'import locust' 2>/dev/null || $(BIN)/pip install -e '.[dev,bench]'
	@set -e; \
	files="benchmarks/engine.py"; \
	for f in benchmarks/*.py; do \
	  case "$$f" in benchmarks/engine.py|benchmarks/_*|'benchmarks/*.py') ;; \
	    *) files="$$files $$f";; esac; \
	done; \
	for f in $$files; do \
	  echo "== $$f"; \
	  $(BIN)/python "$$f"; \
	done

clean:
	rm -rf instance test-output .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) build dist *.egg-info
