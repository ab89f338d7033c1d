"""Parity of the Spark build with DuckDB's: the same inputs, built on both, every row compared.

Development tooling (``make test-spark``, tests/python/devtools/test_spark_parity.py), not part
of the product. ``python -m braze_currents.devtools.spark_parity --workdir DIR`` generates two
days of Currents traffic (the first with every fault the generator knows), and for each of a
full build of day one and an incremental build after day two:

1. loads the day with ``scripts/load_currents.py --landing-parquet`` (DuckDB, and the Parquet
   landing Spark reads as ``raw.*``);
2. builds the project's models and seeds (all but :data:`NOT_PORTED`) and the cross-database tests
   (``tests/dbt/cross_db/``) with dbt on DuckDB (a subprocess) and on local Spark (dbt in this
   process, through dbt-spark's ``session`` method, so Spark starts once and its tables are
   read from the session that built them);
3. compares the rows of the raw tables, the seeds and every ported model, as multisets of rows
   (column names, then every value; JSON by its parsed value, floats to 12 significant
   digits, timestamps in UTC), and lists the rows found on one engine only.

It writes a JSON report and prints a summary; exit 0 when both builds passed and every compared
relation is equal. Models in :data:`NOT_PORTED` are listed as not comparable, and
fail the run only with ``--strict`` (what CI will use once every model is ported).

Written here rather than with a data-diff library: the comparison is across two engines in one
process, a few hundred lines of rows at most, and the libraries that do it (datacompy, data-diff)
need pandas or their own connectors to each engine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from braze_currents.catalog import load_catalog
from braze_currents.config import PROJECT_ROOT

# The 102 typed staging models, one per catalogued event type.
TYPED_MODELS: tuple[str, ...] = tuple(sorted(e.model for e in load_catalog()))

# Tests the Spark build leaves out (DuckDB SQL): the unit tests (their fixtures are DuckDB
# literals; `make test` runs them) and four schema-drift warnings of the event stream, not yet
# ported. The report lists them.
SPARK_EXCLUDED_TESTS: tuple[str, ...] = (
    "resource_type:unit_test",
    "test_name:braze_currents__catalogued_properties",
    "test_name:braze_currents__known_envelope_keys",
    "test_name:braze_currents__typed_values_convert",
    "test_name:braze_currents__properties_are_placed",
)
# Every model builds on Spark (issue 14): the harness builds the project's models and seeds on
# both engines and compares every model that is a relation. A model that stops building on
# Spark goes here, with its downstream models: it is listed as not comparable (--strict fails).
NOT_PORTED: tuple[str, ...] = ()
# The project's models and seeds, with the data tests of the models (all but
# SPARK_EXCLUDED_TESTS): a test runs on Spark when every model it reads is selected.
SELECTION = ("resource_type:model", "resource_type:seed")
# Columns stamped by each run (when the model was built), left out of the comparison.
VOLATILE_COLUMNS: dict[str, tuple[str, ...]] = {"stg_braze_currents__batches": ("staged_at",)}
RAW_TABLES = ("raw.currents_batches", "raw.currents_rejected", "raw.currents_loads")
CROSS_DB_TESTS = "path:tests/dbt/cross_db"
FLOAT_DIGITS = 12
SAMPLE_ROWS = 5


# ---- comparing rows (pure) ----------------------------------------------------------------------


def normalize(value: Any, is_json: bool = False) -> Any:
    """One value as both engines' rows are compared: hashable, engine-neutral."""
    if value is None:
        return None
    if is_json and isinstance(value, str):
        try:
            return normalize(json.loads(value))
        except ValueError:
            return ("<invalid json>", value)
    if isinstance(value, bool):
        return ("<bool>", value)  # True == 1 in Python: a boolean must not equal a number
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        f = float(value)
        if math.isnan(f) or math.isinf(f):
            return str(f)
        if f == int(f) and abs(f) < 2**53:
            return int(f)  # 7.0 from one engine, 7 (a decimal, an integer) from the other
        return float(f"{f:.{FLOAT_DIGITS}g}")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return tuple(sorted((str(k), normalize(v)) for k, v in value.items()))
    if hasattr(value, "asDict"):  # a Spark Row (a struct)
        return normalize(value.asDict(recursive=True))
    if isinstance(value, list | tuple):
        return tuple(normalize(v) for v in value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    return value


@dataclass
class Comparison:
    relation: str
    status: str  # equal | different | missing
    duckdb_rows: int | None = None
    spark_rows: int | None = None
    detail: str = ""
    only_duckdb: list = field(default_factory=list)  # a few rows found on one engine only
    only_spark: list = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return self.status == "equal"


def compare_rows(
    relation: str,
    duckdb_columns: list[str],
    duckdb_rows: list[tuple],
    spark_columns: list[str],
    spark_rows: list[tuple],
    json_columns: set[str] = frozenset(),
    ignore: set[str] = frozenset(),
) -> Comparison:
    """Compare two relations' rows as multisets, column by column by name (any order).

    Columns in `ignore` (stamped anew by each run) must be on both sides and never NULL, and
    are otherwise left out of the comparison."""
    left = [c.lower() for c in duckdb_columns]
    right = [c.lower() for c in spark_columns]
    ignored = {c.lower() for c in ignore}
    for column in sorted(ignored):
        for engine, columns, rows in (("DuckDB", left, duckdb_rows), ("Spark", right, spark_rows)):
            if column not in columns:
                return Comparison(
                    relation, "different", len(duckdb_rows), len(spark_rows),
                    detail=f"columns differ: {column} missing on {engine}",
                )  # fmt: skip
            if any(row[columns.index(column)] is None for row in rows):
                return Comparison(
                    relation, "different", len(duckdb_rows), len(spark_rows),
                    detail=f"{column} is NULL on {engine}",
                )  # fmt: skip
    if sorted(left) != sorted(right):
        return Comparison(
            relation,
            "different",
            len(duckdb_rows),
            len(spark_rows),
            detail=f"columns differ: only on DuckDB {sorted(set(left) - set(right))}, "
            f"only on Spark {sorted(set(right) - set(left))}",
        )
    order = sorted(set(left) - ignored)
    json_cols = {c.lower() for c in json_columns}

    def keyed(columns, rows):
        pos = [columns.index(c) for c in order]
        return Counter(
            tuple(normalize(row[p], is_json=order[i] in json_cols) for i, p in enumerate(pos))
            for row in rows
        )

    a, b = keyed(left, duckdb_rows), keyed(right, spark_rows)
    only_a, only_b = a - b, b - a
    result = Comparison(relation, "equal", len(duckdb_rows), len(spark_rows))
    if only_a or only_b:
        result.status = "different"
        result.detail = (
            f"{sum(only_a.values())} row(s) only on DuckDB, {sum(only_b.values())} only on "
            f"Spark (columns {', '.join(order)})"
        )
        result.only_duckdb = [list(r) for r in list(only_a.elements())[:SAMPLE_ROWS]]
        result.only_spark = [list(r) for r in list(only_b.elements())[:SAMPLE_ROWS]]
    return result


# ---- running the two builds --------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    duckdb_build: str = ""  # ok, or what failed
    spark_build: str = ""
    comparisons: list[Comparison] = field(default_factory=list)
    seconds: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.duckdb_build == "ok"
            and self.spark_build == "ok"
            and all(c.equal for c in self.comparisons)
        )


@dataclass
class Report:
    phases: list[Phase] = field(default_factory=list)
    ported: list[str] = field(default_factory=list)
    not_yet_ported: list[str] = field(default_factory=list)
    tests_not_on_spark: list[str] = field(default_factory=list)

    def ok(self, strict: bool = False) -> bool:
        return all(p.ok for p in self.phases) and not (strict and self.not_yet_ported)

    def summary(self) -> str:
        lines = []
        for p in self.phases:
            lines.append(
                f"== {p.name}: DuckDB build {p.duckdb_build}, Spark build {p.spark_build} "
                f"({', '.join(f'{k} {v:.1f}s' for k, v in p.seconds.items())})"
            )
            for c in p.comparisons:
                rows = f"{c.duckdb_rows} / {c.spark_rows} rows"
                lines.append(f"   {c.status:<10} {c.relation:<55} {rows}  {c.detail}".rstrip())
        lines.append(
            f"ported and compared: {len(self.ported)} model(s); not yet comparable (not ported "
            f"to Spark): {len(self.not_yet_ported)}"
        )
        if self.not_yet_ported:
            lines.append("   " + ", ".join(self.not_yet_ported))
        if self.tests_not_on_spark:
            lines.append("tests left out of the Spark build (DuckDB only; `make test` runs them):")
            lines.append("   " + ", ".join(self.tests_not_on_spark))
        return "\n".join(lines)


class Workspace:
    """The directories of one parity run, and the environment both engines are run with."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self.inputs = self.root / "inputs"
        self.duckdb = self.root / "duckdb" / "currents.duckdb"
        self.landing = self.root / "landing"
        self.spark = self.root / "spark"
        self.target_duckdb = self.root / "target-duckdb"
        self.target_spark = self.root / "target-spark"

    def env(self) -> dict[str, str]:
        return {
            "CURRENTS_DUCKDB_PATH": str(self.duckdb),
            "CURRENTS_LANDING_DIR": str(self.landing),
            "CURRENTS_SPARK_DIR": str(self.spark),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TZ": "UTC",
        }


def _script(script: str, *args: str, env: dict) -> None:
    proc = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / script), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=PROJECT_ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{script} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")


def generate_inputs(ws: Workspace, events: int) -> list[Path]:
    """Two days: the first with every fault the generator knows, the second clean."""
    ws.inputs.mkdir(parents=True, exist_ok=True)
    day1, day2 = ws.inputs / "day1.ndjson.gz", ws.inputs / "day2.ndjson.gz"
    faults = ["--duplicate-rate", "0.05", "--batch-redelivery-rate", "0.05"]
    faults += ["--malformed-rate", "0.02", "--bad-event-rate", "0.01"]
    faults += ["--unknown-type-rate", "0.01", "--drift-rate", "0.02"]
    # Both envelopes (Custom HTTP and flat), event by event.
    common = ["--quiet", "--users", "40", "--days", "1", "--envelope", "mixed"]
    _script(
        "generate_currents.py", "-o", str(day1), "--events", str(events), "--seed", "11",
        "--start", "2026-10-01", *common, *faults, env=ws.env(),
    )  # fmt: skip
    _script(
        "generate_currents.py", "-o", str(day2), "--events", str(events // 4), "--seed", "12",
        "--start", "2026-10-02", *common, env=ws.env(),
    )  # fmt: skip
    return [day1, day2]


def _selection() -> list[str]:
    excluded = [*NOT_PORTED, *SPARK_EXCLUDED_TESTS]
    return [
        "--select", *SELECTION, CROSS_DB_TESTS, "--exclude", *excluded,
        "--indirect-selection", "cautious",
    ]  # fmt: skip


def build_duckdb(ws: Workspace, full_refresh: bool) -> str:
    args = ["build", *_selection(), "--target-path", str(ws.target_duckdb)]
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, *(["--full-refresh"] * full_refresh)],
        capture_output=True,
        text=True,
        env={**os.environ, **ws.env()},
        cwd=PROJECT_ROOT,
    )
    return "ok" if proc.returncode == 0 else f"failed:\n{proc.stdout[-4000:]}{proc.stderr[-2000:]}"


def build_spark(ws: Workspace, full_refresh: bool) -> str:
    """dbt on Spark in this process: the session dbt-spark starts stays up for the reads."""
    from dbt.cli.main import dbtRunner

    os.environ.update(ws.env())
    time.tzset()
    common = ["--target", "spark", "--target-path", str(ws.target_spark)]
    runner = dbtRunner()
    res = runner.invoke(["run-operation", "braze_currents__register_landing", *common])
    if not res.success:
        return f"failed: registering the landing: {res.exception}"
    res = runner.invoke(["build", *_selection(), *common] + ["--full-refresh"] * full_refresh)
    if res.success:
        return "ok"
    failures = [
        f"{r.node.name}: {r.status} {(r.message or '')[:500]}"
        for r in (res.result or [])
        if str(r.status) not in ("success", "pass", "warn")
    ]
    return "failed: " + ("; ".join(failures) or str(res.exception))


def _relation_of(ws: Workspace, name: str) -> str:
    manifest = json.loads((ws.target_duckdb / "manifest.json").read_text())
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "seed") and node["name"] == name:
            return f"{node['schema']}.{node.get('alias') or node['name']}"
    raise KeyError(name)


def all_models(ws: Workspace) -> list[str]:
    manifest = json.loads((ws.target_duckdb / "manifest.json").read_text())
    return sorted(
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"].get("materialized") != "ephemeral"
    )


def all_seeds(ws: Workspace) -> list[str]:
    """The seeds: compared too (dbt-spark's `session` method once loaded an empty cell as
    the text 'None')."""
    manifest = json.loads((ws.target_duckdb / "manifest.json").read_text())
    return sorted(n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "seed")


def read_duckdb(ws: Workspace, relation: str) -> tuple[list[str], list[tuple], set[str]]:
    import duckdb

    con = duckdb.connect(str(ws.duckdb), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        cur = con.execute(f"select * from {relation}")
        columns = [d[0] for d in cur.description]
        json_columns = {d[0] for d in cur.description if str(d[1]).upper() == "JSON"}
        return columns, cur.fetchall(), json_columns
    finally:
        con.close()


def read_spark(relation: str) -> tuple[list[str], list[tuple]]:
    from pyspark.sql import SparkSession

    df = SparkSession.builder.getOrCreate().table(relation)
    return df.columns, [tuple(r) for r in df.collect()]


def compare(ws: Workspace, relation: str) -> Comparison:
    try:
        d_cols, d_rows, json_cols = read_duckdb(ws, relation)
    except Exception as exc:
        return Comparison(relation, "missing", detail=f"DuckDB: {str(exc)[:300]}")
    try:
        s_cols, s_rows = read_spark(relation)
    except Exception as exc:
        return Comparison(relation, "missing", len(d_rows), detail=f"Spark: {str(exc)[:300]}")
    ignore = set(VOLATILE_COLUMNS.get(relation.split(".")[-1], ()))
    return compare_rows(relation, d_cols, d_rows, s_cols, s_rows, json_cols, ignore)


def run(workdir: Path, events: int = 3000) -> Report:
    ws = Workspace(workdir)
    report = Report(tests_not_on_spark=list(SPARK_EXCLUDED_TESTS))
    inputs = generate_inputs(ws, events)
    for name, path, full in (("full build, day 1", inputs[0], True),
                             ("incremental build, day 2", inputs[1], False)):  # fmt: skip
        phase = Phase(name)
        t = time.monotonic()
        _script(
            "load_currents.py", "--quiet", "--database", str(ws.duckdb),
            "--landing-parquet", str(ws.landing), "--landing-shard", "parity", str(path),
            env=ws.env(),
        )  # fmt: skip
        phase.seconds["load"] = time.monotonic() - t
        t = time.monotonic()
        phase.duckdb_build = build_duckdb(ws, full)
        phase.seconds["duckdb"] = time.monotonic() - t
        t = time.monotonic()
        phase.spark_build = build_spark(ws, full)
        phase.seconds["spark"] = time.monotonic() - t
        models = [m for m in all_models(ws) if m not in NOT_PORTED]
        tables = [*all_seeds(ws), *models]
        relations = [*RAW_TABLES, *(_relation_of(ws, m) for m in tables)]
        phase.comparisons = [compare(ws, r) for r in relations]
        report.phases.append(phase)
        report.ported = models
    report.not_yet_ported = [m for m in all_models(ws) if m in NOT_PORTED]
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m braze_currents.devtools.spark_parity")
    p.add_argument("--workdir", required=True, type=Path, help="a new or empty directory")
    p.add_argument("--events", type=int, default=3000, help="events of day one (default 3000)")
    p.add_argument("--report", type=Path, help="write the report as JSON here")
    p.add_argument("--strict", action="store_true", help="fail while a model is not ported")
    args = p.parse_args(argv)
    report = run(args.workdir, args.events)
    if args.report:
        data = asdict(report)
        data["ok"] = report.ok(args.strict)
        args.report.write_text(json.dumps(data, indent=2, default=str))
    print(report.summary())
    return 0 if report.ok(args.strict) else 1


if __name__ == "__main__":
    sys.exit(main())
