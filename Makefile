# Every target creates or updates the environment first (.venv/, pinned requirements).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export CURRENTS_DUCKDB_PATH ?= $(CURDIR)/warehouse/currents.duckdb

.PHONY: install test lint format demo bench clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)
	@echo "environment ready: $(VENV)/ (dbt: $(BIN)/dbt, python: $(BIN)/python)"

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint models macros tests/dbt analyses

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/sqlfluff fix models macros tests/dbt analyses

demo: install
	$(BIN)/python scripts/demo.py

bench: install
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

clean:
	rm -rf target logs warehouse/*.duckdb warehouse/*.wal out
