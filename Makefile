# Every target creates or updates the environment first (.venv/, pinned requirements).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export CURRENTS_DUCKDB_PATH ?= $(CURDIR)/warehouse/currents.duckdb
# The Spark target's tables and metastore, and the Parquet landing it reads (README, "Running
# on Spark").
export CURRENTS_SPARK_DIR ?= $(CURDIR)/warehouse/spark
export CURRENTS_LANDING_DIR ?= $(CURDIR)/warehouse/landing
SPARK_STAMP := $(VENV)/.installed-spark

.PHONY: install install-spark test test-spark lint format demo bench clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)
	@echo "environment ready: $(VENV)/ (dbt: $(BIN)/dbt, python: $(BIN)/python)"

# Adds dbt-spark and PySpark to the same .venv, on demand: the DuckDB setup stays light.
install-spark: $(SPARK_STAMP)

$(SPARK_STAMP): requirements-spark.txt $(STAMP)
	@command -v java >/dev/null || { echo "Spark needs Java 17 or newer on the PATH"; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-spark.txt
	@touch $(SPARK_STAMP)
	@echo "Spark ready: $(BIN)/dbt build --target spark"

# The default suite leaves out the tests marked `spark` (pyproject.toml); test-spark runs them.
# Test files run on TEST_WORKERS processes (pytest-xdist), each file whole on one of them so that
# its dbt builds share their fixtures: 9 minutes on 2 cores instead of 16.
TEST_WORKERS ?= 2

test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-spark: install-spark
	$(BIN)/python -m pytest -m spark

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
	rm -rf target logs out warehouse/spark warehouse/demo-inputs warehouse/demo-export-report.json
	rm -rf warehouse/*.duckdb warehouse/*.wal warehouse/*.duckdb.*  # with its export lock, journal, temp files
