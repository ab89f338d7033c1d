"""scripts/build_warehouse.py: the scheduled build builds what new loads reach, nothing on a day
without loads, everything when it has no usable state, and never advances past a failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from warehouse_testing import Warehouse, generate, run_script

from braze_currents import scheduled_build as sb


def write_state(state: Path, manifest: dict) -> None:
    state.mkdir(parents=True)
    (state / "manifest.json").write_text(json.dumps(manifest))
    (state / "sources.json").write_text("{}")


MANIFEST = {
    "nodes": {
        "model.p.a": {"resource_type": "model", "schema": "marts", "name": "a",
                      "config": {"materialized": "table"}},
        "model.p.b": {"resource_type": "model", "schema": "marts", "name": "b", "alias": "b_x",
                      "config": {"materialized": "view"}},
        "model.p.e": {"resource_type": "model", "schema": "marts", "name": "e",
                      "config": {"materialized": "ephemeral"}},
        "seed.p.s": {"resource_type": "seed", "schema": "main", "name": "s", "config": {}},
        "test.p.t": {"resource_type": "test", "schema": "tests", "name": "t", "config": {}},
    }
}  # fmt: skip
EXISTING = {"marts.a", "marts.b_x", "main.s"}


def test_a_usable_state_selects_what_new_loads_or_changed_code_reach(tmp_path):
    state = tmp_path / "w.duckdb.dbt-state"
    write_state(state, MANIFEST)
    steps = sb.plan(state, False, EXISTING, tmp_path / "target", ["--threads", "4"])
    assert not steps.full
    assert steps.freshness[:2] == ["source", "freshness"]
    build = steps.build
    assert build[0] == "build" and "--threads" in build
    assert build[build.index("--select") + 1] == "source_status:fresher+ state:modified+"
    assert build[build.index("--state") + 1] == str(state)
    assert build[build.index("--exclude-resource-type") + 1] == "unit_test"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("no state", "no previous build recorded"),
        ("half a state", "no previous build recorded"),
        ("no warehouse", "does not exist"),
        ("a relation missing", "lacks marts.b_x"),
        ("full refresh", "--full-refresh"),
    ],
)
def test_without_a_usable_state_every_node_is_built(tmp_path, case, reason):
    state = tmp_path / "w.duckdb.dbt-state"
    existing: set[str] | None = set(EXISTING)
    if case != "no state":
        write_state(state, MANIFEST)
    if case == "half a state":
        (state / "sources.json").unlink()
    if case == "no warehouse":
        existing = None
    if case == "a relation missing":
        existing.discard("marts.b_x")
    steps = sb.plan(state, case == "full refresh", existing, tmp_path / "target")
    assert steps.full
    assert reason in steps.reason
    assert "--select" not in steps.build and "--state" not in steps.build
    assert ("--full-refresh" in steps.build) == (case == "full refresh")


@pytest.mark.parametrize(
    "text", ["{not json", "[]", '{"nodes": {"m": {"resource_type": "model"}}}']
)
def test_an_unreadable_state_builds_every_node(tmp_path, text):
    state = tmp_path / "w.duckdb.dbt-state"
    write_state(state, MANIFEST)
    (state / "manifest.json").write_text(text)
    steps = sb.plan(state, False, EXISTING, tmp_path / "target")
    assert steps.full
    assert "unreadable" in steps.reason
    assert "--state" not in steps.build


def test_a_warehouse_that_cannot_be_read_exits_2_before_dbt(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    db.write_bytes(b"not a duckdb file" * 100)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    calls, said = [], []
    assert sb.run(db, invoke=lambda args: calls.append(args) or (True, None),
                  say=said.append) == 2  # fmt: skip
    assert calls == []
    assert said and str(db) in said[-1]


def test_missing_relations_ignore_tests_and_ephemeral_models():
    assert sb.missing_relations(MANIFEST, EXISTING) == []
    assert sb.missing_relations(MANIFEST, {"marts.a"}) == ["main.s", "marts.b_x"]


class FakeDbt:
    """dbt's runner stood in for: writes the artifacts a real run writes, fails on demand."""

    def __init__(self, target: Path, build_ok: bool = True, fresh_ok: bool = True):
        self.target, self.build_ok, self.fresh_ok, self.calls = target, build_ok, fresh_ok, []

    def __call__(self, args):
        self.calls.append(args[0])
        self.target.mkdir(parents=True, exist_ok=True)
        if args[0] == "source":
            (self.target / "sources.json").write_text(json.dumps({"run": len(self.calls)}))
            return self.fresh_ok, None
        (self.target / "manifest.json").write_text(json.dumps(MANIFEST))
        return self.build_ok, None


@pytest.fixture
def warehouse_file(tmp_path, monkeypatch):
    import duckdb

    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    return db


def test_the_state_advances_only_when_the_build_succeeds(warehouse_file, tmp_path):
    state = sb.state_dir(warehouse_file)
    said = []
    failing = FakeDbt(tmp_path / "target", build_ok=False)
    assert sb.run(warehouse_file, invoke=failing, say=said.append) == 1
    assert failing.calls == ["source", "build"]
    assert not state.exists()
    assert "selects the same new data again" in said[-1]
    ok = FakeDbt(tmp_path / "target")
    assert sb.run(warehouse_file, invoke=ok, say=said.append) == 0
    assert json.loads((state / "sources.json").read_text()) == {"run": 1}
    write_state_before = (state / "sources.json").read_text()
    assert sb.run(warehouse_file, invoke=FakeDbt(tmp_path / "target", build_ok=False),
                  say=said.append) == 1  # fmt: skip
    assert (state / "sources.json").read_text() == write_state_before


def test_a_stale_source_fails_the_run_after_building(warehouse_file, tmp_path):
    said = []
    stale = FakeDbt(tmp_path / "target", fresh_ok=False)
    assert sb.run(warehouse_file, invoke=stale, say=said.append) == 1
    assert stale.calls == ["source", "build"]  # built all the same
    assert sb.state_dir(warehouse_file).is_dir()
    assert "freshness" in said[-1]


def test_dbt_that_cannot_run_exits_2(warehouse_file, tmp_path):
    def broken(args):
        return False, "profile not found"

    said = []
    assert sb.run(warehouse_file, invoke=broken, say=said.append) == 2
    assert "profile not found" in said[-1]


@pytest.mark.dbt
def test_a_day_builds_only_what_its_loads_reach(tmp_path):
    wh = Warehouse(tmp_path / "w" / "currents.duckdb", tmp_path / "target")
    s1 = generate(tmp_path / "d1.ndjson", "--events", "1200", "--days", "2", "--seed", "5",
                  "--duplicate-rate", "0.05")  # fmt: skip
    wh.load(tmp_path / "d1.ndjson")
    first = run_script("build_warehouse.py", env=wh.env)
    assert "every node (no previous build recorded" in first.stdout
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    assert len(results) > 200
    assert all(r["status"] in ("success", "pass", "no-op") for r in results), [
        (r["unique_id"], r["status"])
        for r in results
        if r["status"] not in ("success", "pass", "no-op")
    ]
    stream = "select count(*) from staging.stg_braze_currents__events"
    assert wh.scalar(stream) == s1["distinct_events"]

    # A day with no loads: nothing is selected, nothing runs.
    empty = run_script("build_warehouse.py", env=wh.env)
    assert "new data only" in empty.stdout
    assert json.loads((tmp_path / "target" / "run_results.json").read_text())["results"] == []

    # A day with a load: the models downstream of the raw tables and their tests run.
    s2 = generate(tmp_path / "d2.ndjson", "--events", "300", "--days", "1", "--seed", "6",
                  "--start", "2026-11-20")  # fmt: skip
    wh.load(tmp_path / "d2.ndjson")
    run_script("build_warehouse.py", env=wh.env)
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    ran = {r["unique_id"].split(".")[-1] for r in results}
    assert {"stg_braze_currents__events", "fct_message_engagement", "dim_users"} <= ran
    assert not any(r["unique_id"].startswith("seed.") for r in results)
    assert wh.scalar(stream) == s1["distinct_events"] + s2["distinct_events"]

    # A warehouse that lost a relation is built whole again.
    import duckdb

    with duckdb.connect(str(wh.path)) as con:
        con.execute("drop table marts.dim_campaigns")
    again = run_script("build_warehouse.py", env=wh.env)
    assert "every node (the warehouse lacks marts.dim_campaigns" in again.stdout
    assert wh.scalar("select count(*) from marts.dim_campaigns") > 0
