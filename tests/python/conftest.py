"""Shared fixtures: generated Currents inputs, and warehouses built with the loader and dbt."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from warehouse_testing import Warehouse, generate


@pytest.fixture(scope="session")
def dbt_target(tmp_path_factory) -> Path:
    """One dbt target path for the session, so dbt parses the project fully only once."""
    return tmp_path_factory.mktemp("dbt_target")


@pytest.fixture
def empty_warehouse(tmp_path, dbt_target) -> Warehouse:
    return Warehouse(tmp_path / "warehouse" / "currents.duckdb", dbt_target)


@dataclass
class BuiltWarehouse(Warehouse):
    stats: dict  # what the generator produced
    build_results: dict | None = None  # run_results.json of its `dbt build`
    docs_catalog: dict | None = None  # catalog.json of `dbt docs generate` right after it


@pytest.fixture(scope="session")
def faulty_inputs(tmp_path_factory) -> tuple[Path, dict]:
    """Two days of traffic with every kind of fault the generator knows."""
    out = tmp_path_factory.mktemp("inputs") / "currents.ndjson.gz"
    stats = generate(
        out,
        "--events", "6000", "--users", "60", "--days", "3", "--seed", "7",
        "--duplicate-rate", "0.05", "--batch-redelivery-rate", "0.05",
        "--malformed-rate", "0.05", "--bad-event-rate", "0.01",
        "--unknown-type-rate", "0.01", "--drift-rate", "0.02",
    )  # fmt: skip
    return out, stats


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory, dbt_target, faulty_inputs) -> BuiltWarehouse:
    """A warehouse loaded from `faulty_inputs` and built with `dbt build` (tests may warn)."""
    path, stats = faulty_inputs
    wh = BuiltWarehouse(
        tmp_path_factory.mktemp("built") / "currents.duckdb", dbt_target, stats=stats
    )
    wh.load(path)
    wh.dbt("build")
    wh.build_results = json.loads((dbt_target / "run_results.json").read_text())
    # Here, where dbt's partial parse is still valid: a few seconds instead of a full parse.
    wh.dbt("docs", "generate", "--no-compile")
    wh.docs_catalog = json.loads((dbt_target / "catalog.json").read_text())
    return wh
