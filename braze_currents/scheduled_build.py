"""The scheduled build: `dbt build` of only what new loads (or changed code) reach.

A day that brings no events should cost little more than dbt's start-up, but `dbt build` runs
every node whatever it has to do: about 270 models and tests at ~30 ms each before any of them
reads a row, plus the tables rebuilt from every event. dbt's own answer is state selection:
`dbt source freshness` records the newest `loaded_at` of each source (sources.json), and
`dbt build --select source_status:fresher+ state:modified+ --state <previous run>` builds only
the sources that received loads since the previous build, everything downstream of them, and
whatever the project changed. This module keeps that previous state beside the warehouse
(`<warehouse>.dbt-state/`: the manifest and sources.json of the last build that succeeded) and
runs both dbt commands in one process (dbt's programmatic runner: one import of dbt, not two).

Nothing is skipped that has to run:
- no state yet (the first build), `--full-refresh`, or a warehouse that lacks a relation the
  state's manifest built (the file was replaced or rebuilt by hand): every node is built;
- the freshness snapshot is taken before the build, so a load that lands during the build is
  "fresher" at the next run and built again then (incremental models add nothing twice);
- the state advances only when the build succeeds: after a failure the next run selects the
  same sources again.
Unit tests are excluded (they check SQL on fixtures: CI runs them), as the README recommends.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from braze_currents.config import PROJECT_ROOT
from braze_currents.warehouse import connect

STATE_FILES = ("manifest.json", "sources.json")
ALWAYS = ["--exclude-resource-type", "unit_test"]
SELECT_NEW = ["--select", "source_status:fresher+ state:modified+"]


@dataclass
class Plan:
    """What one scheduled build runs, decided from the state (pure: see ``plan``)."""

    full: bool  # build every node (no usable state)
    reason: str
    freshness: list[str]
    build: list[str] = field(default_factory=list)


def state_dir(database: Path) -> Path:
    return database.with_name(database.name + ".dbt-state")


def missing_relations(manifest: dict, existing: set[str]) -> list[str]:
    """The models and seeds the manifest built whose relation the warehouse lacks (names as
    ``schema.name``, lower case; ephemeral models have none)."""
    missing = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") not in ("model", "seed"):
            continue
        if node.get("config", {}).get("materialized") == "ephemeral":
            continue
        name = f"{node['schema']}.{node.get('alias') or node['name']}".lower()
        if name not in existing:
            missing.append(name)
    return sorted(missing)


def plan(
    state: Path,
    full_refresh: bool,
    existing: set[str] | None,
    target_path: Path,
    extra: Sequence[str] = (),
) -> Plan:
    """The dbt commands of a scheduled build. ``existing``: the warehouse's relations
    (``schema.name``), None when the warehouse file does not exist."""
    freshness = ["source", "freshness", "--target-path", str(target_path)]
    build = ["build", *ALWAYS, "--target-path", str(target_path), *extra]
    if full_refresh:
        return Plan(True, "--full-refresh", freshness, [*build, "--full-refresh"])
    if not all((state / name).is_file() for name in STATE_FILES):
        return Plan(True, f"no previous build recorded in {state}", freshness, build)
    if existing is None:
        return Plan(True, "the warehouse file does not exist", freshness, build)
    try:
        manifest = json.loads((state / "manifest.json").read_text())
        missing = missing_relations(manifest, existing)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return Plan(True, f"the state's manifest is unreadable ({exc!r:.80})", freshness, build)
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        return Plan(True, f"the warehouse lacks {shown}", freshness, build)
    return Plan(
        False,
        "only what loads since the previous build (or changed code) reach",
        freshness,
        [*build, *SELECT_NEW, "--state", str(state)],
    )


def warehouse_relations(database: Path) -> set[str] | None:
    if not database.exists():
        return None
    con = connect(database, read_only=True)
    try:
        rows = con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    finally:
        con.close()
    return {f"{schema}.{name}".lower() for schema, name in rows}


def save_state(target_path: Path, state: Path) -> None:
    """Replace the state with the build's manifest and the freshness snapshot, whole or not at
    all (a new folder renamed over the old)."""
    fresh = Path(tempfile.mkdtemp(prefix=state.name + ".", dir=state.parent))
    for name in STATE_FILES:
        shutil.copy2(target_path / name, fresh / name)
    old = state.with_name(state.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if state.exists():
        state.rename(old)
    fresh.rename(state)
    shutil.rmtree(old, ignore_errors=True)


DbtInvoke = Callable[[list[str]], tuple[bool, str | None]]


def dbt_invoke(args: list[str]) -> tuple[bool, str | None]:
    """dbt's programmatic runner, in this process; (success, error text or None)."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [*args, "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT)]
    )
    return result.success, (str(result.exception) if result.exception else None)


def run(
    database: Path,
    full_refresh: bool = False,
    extra: Sequence[str] = (),
    invoke: DbtInvoke = dbt_invoke,
    say: Callable[[str], None] = print,
) -> int:
    """One scheduled build; the exit code: 0 built (or nothing to build), 1 the build or the
    freshness check failed (a source older than its error_after fails the run after the
    build, as `dbt source freshness` does), 2 dbt or the warehouse file could not be read."""
    os.environ["CURRENTS_DUCKDB_PATH"] = str(database)
    state = state_dir(database)
    target_path = Path(os.environ.get("DBT_TARGET_PATH") or PROJECT_ROOT / "target")
    try:
        existing = warehouse_relations(database)
    except duckdb.Error as exc:  # locked by a running load, not a DuckDB file, ...
        say(f"cannot read the warehouse {database}: {exc}")
        return 2
    steps = plan(state, full_refresh, existing, target_path, extra)
    say(f"scheduled build: {'every node' if steps.full else 'new data only'} ({steps.reason})")
    fresh_ok, fresh_error = invoke(steps.freshness)
    if fresh_error or not (target_path / "sources.json").is_file():
        say(f"dbt source freshness could not run: {fresh_error or 'no sources.json written'}")
        return 2
    built, build_error = invoke(steps.build)
    if build_error:
        say(f"dbt build could not run: {build_error}")
        return 2
    if not built:
        say(f"dbt build failed; the next run selects the same new data again (state: {state})")
        return 1
    save_state(target_path, state)
    if not fresh_ok:
        say("built, but a source is older than its freshness error_after (see above)")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    from braze_currents.config import duckdb_path

    p = argparse.ArgumentParser(
        prog="build_warehouse.py",
        description="dbt build of what new loads (or changed code) reach: the scheduled build. "
        "The first run, --full-refresh, or a warehouse missing a relation builds every node.",
    )
    p.add_argument("--database", help="the warehouse file (default: CURRENTS_DUCKDB_PATH, "
                   "else warehouse/currents.duckdb)")  # fmt: skip
    p.add_argument("--full-refresh", action="store_true",
                   help="rebuild every model from raw (dbt build --full-refresh)")  # fmt: skip
    p.add_argument("dbt_args", nargs="*",
                   help="more arguments for dbt build, after --, e.g. -- --threads 4")  # fmt: skip
    args = p.parse_args(argv)
    return run(duckdb_path(args.database), args.full_refresh, args.dbt_args)
