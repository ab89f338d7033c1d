"""Helpers shared by the tests: running the scripts and dbt, reading a warehouse."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from braze_currents.config import PROJECT_ROOT

DBT = Path(sys.executable).parent / "dbt"
TEST_VARS = {"braze_currents_test_each_typed_model": True}


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

    def dbt(
        self, *args: str, check: bool = True, dbt_vars: dict | None = None
    ) -> subprocess.CompletedProcess:
        # As CI does: every test, also the per-model primary key tests of the typed models
        # (off by default). The same vars on every call keep dbt's partial parse valid: a call
        # with other `dbt_vars` parses the project again (give it a target of its own).
        if args and args[0] in ("build", "run", "test", "compile", "docs", "parse", "ls"):
            args = (*args, "--vars", json.dumps({**TEST_VARS, **(dbt_vars or {})}))
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

    def copy_to(self, directory: Path, target: Path | None = None) -> Warehouse:
        """A copy of the warehouse file in `directory`, under the same name (the views name
        their database), built with `target` (else the same dbt target path)."""
        directory.mkdir(parents=True, exist_ok=True)
        copy = Warehouse(directory / self.path.name, target or self.target)
        shutil.copy(self.path, copy.path)
        wal = self.path.with_name(self.path.name + ".wal")
        if wal.exists():
            shutil.copy(wal, copy.path.with_name(copy.path.name + ".wal"))
        return copy

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
