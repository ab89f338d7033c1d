"""Shared fixtures: generated Currents inputs, and warehouses built with the loader and dbt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from braze_currents.config import PROJECT_ROOT

DBT = Path(sys.executable).parent / "dbt"


def run_script(script: str, *args: str, env: dict | None = None, check: bool = True):
    """Run one of the project's scripts the way a user does; returns the CompletedProcess."""
    proc = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / script), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=PROJECT_ROOT,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{script} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


@dataclass
class Warehouse:
    path: Path
    target: Path  # the dbt target path used to build it (holds manifest.json)

    @property
    def env(self) -> dict:
        return {"CURRENTS_DUCKDB_PATH": str(self.path), "DBT_TARGET_PATH": str(self.target)}

    def dbt(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [str(DBT), *args],
            capture_output=True,
            text=True,
            env={**os.environ, **self.env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
            cwd=PROJECT_ROOT,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}")
        return proc

    def load(self, *inputs: str | Path, check: bool = True) -> subprocess.CompletedProcess:
        return run_script(
            "load_currents.py", "--database", str(self.path), *map(str, inputs), check=check
        )

    def query(self, sql: str, params=None) -> list[tuple]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def scalar(self, sql: str, params=None):
        return self.query(sql, params)[0][0]


def generate(out: Path, *args: str) -> dict:
    """Generate Currents inputs with scripts/generate_currents.py; returns its stats."""
    stats = out.parent / (out.name + ".stats.json")
    run_script("generate_currents.py", "-o", str(out), "--quiet", "--stats", str(stats), *args)
    return json.loads(stats.read_text())


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
