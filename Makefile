# The two commands of the README, and their helpers. Everything runs inside .venv, created
# from pyproject.toml pinned by constraints.txt, so a fresh machine needs only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo test test-all lint bench-generate clean

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

demo: $(INSTALLED)  ## set up, then run the whole pipeline on DuckDB + the sandbox
	$(BIN)/csp demo

test: $(INSTALLED)  ## set up, then run the test suite (slow scale tests excluded)
	$(BIN)/python -m pytest

test-all: $(INSTALLED)  ## every test, including the slow scale tests
	$(BIN)/python -m pytest -m ""

lint: $(INSTALLED)
	$(BIN)/ruff check csp flows integrations tests bench
	$(BIN)/mypy csp flows integrations

bench-generate: $(INSTALLED)  ## time and memory of generating each company size
	$(BIN)/python bench/bench_generate.py --size small
	$(BIN)/python bench/bench_generate.py --size medium

clean:
	rm -rf $(VENV) .csp warehouse
