"""A throwaway warehouse with dbt-like models and a manifest, for tests, the bench and demos.

box = Sandbox(tmp_dir)
box.add_model("events_for_braze", "SELECT 'u1' AS external_id, 'signup' AS name, ...")
env = box.env()  # CURRENTS_DUCKDB_PATH and DBT_TARGET_PATH pointing at it
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from braze_currents.exporter.payload import quote_ident

PACKAGE = "braze_currents"


class Sandbox:
    def __init__(self, root: Path, database_name: str = "sandbox") -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.database = self.root / f"{database_name}.duckdb"
        self.target = self.root / "target"
        self.target.mkdir(exist_ok=True)
        self._nodes: dict[str, dict] = {}
        self._write_manifest()

    def execute(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.database)) as con:
            return con.execute(sql, params or []).fetchall()

    def add_model(self, name: str, select_sql: str, schema: str = "marts") -> None:
        """Builds table ``schema.name`` from ``select_sql`` and lists it in the manifest."""
        with duckdb.connect(str(self.database)) as con:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
            con.execute(
                f"CREATE OR REPLACE TABLE {quote_ident(schema)}.{quote_ident(name)} AS {select_sql}"
            )
        unique_id = f"model.{PACKAGE}.{name}"
        self._nodes[unique_id] = {
            "resource_type": "model",
            "unique_id": unique_id,
            "package_name": PACKAGE,
            "name": name,
            "alias": name,
            "database": self.database.stem,
            "schema": schema,
            "config": {"materialized": "table"},
        }
        self._write_manifest()

    def _write_manifest(self) -> None:
        manifest = {"metadata": {"dbt_version": "1.11.0"}, "nodes": self._nodes}
        (self.target / "manifest.json").write_text(json.dumps(manifest, indent=1))

    def env(self) -> dict[str, str]:
        return {"CURRENTS_DUCKDB_PATH": str(self.database), "DBT_TARGET_PATH": str(self.target)}


def events_sql(n: int, start: int = 0) -> str:
    """SQL for a custom-events model of ``n`` rows: one user each, a time, one property."""
    return (
        f"SELECT 'user-' || i AS external_id, 'played' AS name, "
        f"TIMESTAMP '2024-05-01 10:00:00' + to_seconds(i) AS time, i AS level "
        f"FROM range({int(start)}, {int(start) + int(n)}) AS r(i)"
    )
