# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench mutation chat clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/ukkbot run

chat: $(VENV)/.installed
	$(BIN)/ukkbot chat

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check bot handlers tests benchmarks
	$(BIN)/ruff format --check bot handlers tests benchmarks
	$(BIN)/mypy

# The browser suite (tests/browser) needs Debian's chromium; .ci/run installs it.
CHROMIUM := /usr/bin/chromium

test: lint
	$(BIN)/ukkbot content check content
	@if [ -x $(CHROMIUM) ]; then \
		echo "$(BIN)/pytest -q"; $(BIN)/pytest -q; \
	else \
		echo "SKIPPED: browser suite (tests/browser): $(CHROMIUM) not found; apt-get install -y chromium, or run .ci/run"; \
		echo "$(BIN)/pytest -q --ignore=tests/browser"; $(BIN)/pytest -q --ignore=tests/browser; \
	fi

bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.run_all

# Mutation testing (not part of `make test` or CI): a fresh mutmut run over the modules in
# pyproject.toml's [tool.mutmut], without the case changes of SQL and sqlite3.Row keys no test
# can tell apart (benchmarks/mutation_run.py), then the share caught per module (BENCHMARKS.md).
mutation: $(VENV)/.installed-dev
	rm -rf mutants
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m benchmarks.mutation_run run --max-children 2
	$(BIN)/python -m benchmarks.mutation_scores

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mutants
