# One task runner: every command the README names is a target here.
# Each target creates .venv with Python 3.12 and installs what it needs, so a
# fresh machine needs nothing but this file, python3.12 and make.

.DEFAULT_GOAL := help
SHELL := /bin/bash

# Python 3.12: the first candidate that really runs 3.12. A pyenv shim named
# python3.12 exists even when 3.12 is not the active pyenv version, so each
# candidate is asked for its version instead of trusted by name.
PYENV_ROOT ?= $(HOME)/.pyenv
PY312_CANDIDATES := python3.12 $(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python3.12) \
                    $(wildcard /root/.pyenv/versions/3.12*/bin/python3.12) \
                    /usr/local/bin/python3.12 /usr/bin/python3.12
PYTHON ?= $(firstword $(foreach p,$(PY312_CANDIDATES),$(if $(shell $(p) -c \
  'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && echo ok),$(p))))

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# MathJax for drawing the formulas at build (docs/hooks/mathjax_svg.js): npm's
# mathjax-full, pinned in package.json and package-lock.json, installed by `npm ci`.
NODE_STAMP := node_modules/.installed
EXTRAS := tests,docs,lint,bench
# Material 9.7+ prints a banner about MkDocs 2 on every command; it is not about this site.
export NO_MKDOCS_2_WARNING := 1
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help setup serve docs test bench horizon horizon-gated horizon-tuned lint format clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# rnnnum/csrc/ is compiled by the install (pyproject.toml's ext-modules): a change to
# it reinstalls, so the tests never run a stale build.
$(STAMP): pyproject.toml $(wildcard rnnnum/csrc/*.c rnnnum/csrc/*.h)
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: Python 3.12 is required and was not found (tried: $(PY312_CANDIDATES))." >&2; \
	  echo "Install it (e.g. 'pyenv install 3.12') or run 'make PYTHON=/path/to/python3.12 ...'." >&2; \
	  exit 2; fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
	  echo "error: Node.js and npm are required: the site's formulas are drawn by MathJax in Node" >&2; \
	  echo "while it builds. Install Debian's packages: sudo apt-get install nodejs npm" >&2; \
	  echo "(CI's .ci/run does this), then run make again." >&2; \
	  exit 2; fi
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(STAMP) $(NODE_STAMP)  ## create .venv and node_modules: the project with all extras, MathJax

serve: $(STAMP) $(NODE_STAMP)  ## set up and serve the site on http://127.0.0.1:8000
	$(BIN)/mkdocs serve --strict --dev-addr $(HOST):$(PORT)

docs: $(STAMP) $(NODE_STAMP)  ## strict static build of the site into site/
	$(BIN)/mkdocs build --strict

test: $(STAMP) $(NODE_STAMP)  ## set up and run the whole test suite
	$(BIN)/python -m pytest

bench: $(STAMP) $(NODE_STAMP)  ## run the benchmarks; each figure is printed next to its target
	$(BIN)/python -m benchmarks

horizon: $(STAMP)  ## rerun the vanilla networks' grid, their group in docs/results/memory-horizon.json
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m rnnnum.horizon --merge-into docs/results/memory-horizon.json

horizon-gated: $(STAMP)  ## the LSTM/GRU grid into their group of the same file: resumable
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m rnnnum.horizon --merge-into docs/results/memory-horizon.json \
	  --variants lstm-f0 lstm-f1 gru --jobs 2 --resume

horizon-tuned: $(STAMP)  ## the tuned protocol (pilot, both tasks, reruns): the file's tuned section, resumable
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m rnnnum.horizon_tuned \
	  --merge-into docs/results/memory-horizon.json --jobs 2 --resume --lags 10 30 100 200

lint: $(STAMP)  ## ruff (lint and format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)  ## apply ruff's formatter and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:  ## remove the virtualenv, node_modules, the built site and caches
	rm -rf $(VENV) node_modules site .cache .pytest_cache .hypothesis .ruff_cache .mypy_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
