"""The ledger in a file of its own (``--ledger``), its versioned format, ``--require-ledger``
and ``--first-run``: a lost ledger never turns into a full resend."""

from __future__ import annotations

import collections

import duckdb
import pytest

from braze_currents.devtools.sandbox import Sandbox, events_sql
from braze_currents.exporter import ledger

ARGS = ["--model", "events", "--mode", "user_track", "--track-record-type", "custom_events"]

# The ledger's layout before it was versioned (format 1): these three tables and nothing else.
FORMAT_1_COLUMNS = {
    "deliveries": ["export_key", "row_hash", "occurrence", "run_id", "acked_at"],
    "attribute_state": ["export_key", "user_key", "attributes", "seq", "run_id", "acked_at"],
    "runs": [
        "run_id", "export_key", "model", "relation", "mode",
        "started_at", "finished_at", "exit_code", "summary",
    ],
}  # fmt: skip


def _tables(path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'braze_export'"
        ).fetchall()
    return {r[0] for r in rows}


def _fresh_box(tmp_path, name: str, n: int) -> Sandbox:
    """Another warehouse with the same model: what a CI runner rebuilds every run."""
    other = Sandbox(tmp_path / name)
    other.add_model("events", events_sql(n))
    return other


def test_ledger_in_its_own_file_carries_over_to_a_fresh_warehouse(box, emu, run, tmp_path):
    box.add_model("events", events_sql(40))
    path = tmp_path / "state" / "ledger.duckdb"
    first = run(*ARGS, "--ledger", str(path))
    assert first.code == 0, first.err
    assert first.report["sent"] == 40
    assert first.report["ledger"]["path"] == str(path)
    assert first.report["ledger"]["format"] == ledger.FORMAT_VERSION
    assert first.report["ledger"]["first_run"] is True
    assert path.is_file()
    assert not _tables(box.database)  # nothing of the ledger in the warehouse
    assert _tables(path) >= {"deliveries", "attribute_state", "runs", "ledger_format"}

    other = _fresh_box(tmp_path, "wh2", 50)  # the same 40 rows and 10 new ones
    second = run(*ARGS, "--ledger", str(path), "--require-ledger", env=other.env())
    assert second.code == 0, second.err
    assert second.report["sent"] == 10
    assert second.report["already_delivered"] == 40
    assert second.report["ledger"]["first_run"] is False
    assert second.report["ledger"]["skipped_as_delivered"] == 40
    counts = collections.Counter(e["external_id"] for e in emu.store.events)
    assert len(counts) == 50 and max(counts.values()) == 1


def test_require_ledger_without_history_sends_nothing_and_creates_no_ledger(
    box, emu, run, tmp_path
):
    box.add_model("events", events_sql(20))
    path = tmp_path / "state" / "ledger.duckdb"
    result = run(*ARGS, "--ledger", str(path), "--require-ledger")
    assert result.code == 1
    assert "no ledger history" in result.err and str(path) in result.err
    assert "--first-run" in result.err
    assert emu.store.events == []
    assert not path.exists()  # a CI job saving it afterwards keeps no empty ledger


def test_require_ledger_in_the_warehouse(box, emu, run):
    box.add_model("events", events_sql(20))
    refused = run(*ARGS, "--require-ledger")
    assert refused.code == 1 and emu.store.events == []
    first = run(*ARGS, "--require-ledger", "--first-run")
    assert first.code == 0 and first.report["sent"] == 20
    again = run(*ARGS, "--require-ledger")
    assert again.code == 0 and again.report["sent"] == 0
    assert again.report["already_delivered"] == 20
    assert again.report["ledger"]["path"] == str(box.database)


def test_a_run_without_history_says_it_is_the_first(box, emu, run, caplog):
    box.add_model("events", events_sql(5))
    result = run(*ARGS)
    assert result.code == 0
    assert "first run" in result.err
    assert result.report["ledger"]["first_run"] is True
    second = run(*ARGS)
    assert "first run" not in second.err


def test_first_run_refused_when_the_ledger_has_history(box, emu, run, tmp_path):
    box.add_model("events", events_sql(5))
    path = tmp_path / "ledger.duckdb"
    assert run(*ARGS, "--ledger", str(path), "--first-run").code == 0
    box.add_model("events", events_sql(8))
    again = run(*ARGS, "--ledger", str(path), "--first-run")
    assert again.code == 1
    assert "not the first run" in again.err
    assert len(emu.store.events) == 5  # the 3 new rows wait for a run without --first-run


def test_require_ledger_and_ignore_ledger_contradict(box, emu, run):
    box.add_model("events", events_sql(5))
    result = run(*ARGS, "--require-ledger", "--ignore-ledger")
    assert result.code == 1 and "--ignore-ledger" in result.err
    assert emu.store.events == []


@pytest.mark.parametrize("where", ["warehouse", "file"])
def test_a_ledger_of_the_pre_versioned_layout_is_migrated(box, emu, run, tmp_path, where):
    box.add_model("events", events_sql(30))
    path = tmp_path / "ledger.duckdb" if where == "file" else box.database
    flags = ["--ledger", str(path)] if where == "file" else []
    assert run(*ARGS, *flags).code == 0
    with duckdb.connect(str(path)) as con:  # back to format 1: exactly the three old tables
        con.execute("DROP TABLE braze_export.ledger_format")
        for table, columns in FORMAT_1_COLUMNS.items():
            found = con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'braze_export' "
                "AND table_name = ? ORDER BY column_index",
                [table],
            ).fetchall()
            assert [c for (c,) in found] == columns
    again = run(*ARGS, *flags)
    assert again.code == 0, again.err
    assert "format 1" in again.err and "migrated" in again.err
    assert again.report["sent"] == 0 and again.report["already_delivered"] == 30
    assert again.report["ledger"]["migrated_from"] == 1
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT max(version) FROM braze_export.ledger_format").fetchone() == (
            ledger.FORMAT_VERSION,
        )


def test_a_ledger_of_a_newer_format_is_refused(box, emu, run, tmp_path):
    box.add_model("events", events_sql(10))
    path = tmp_path / "ledger.duckdb"
    assert run(*ARGS, "--ledger", str(path)).code == 0
    with duckdb.connect(str(path)) as con:
        con.execute(
            "INSERT INTO braze_export.ledger_format VALUES (?, 'a later exporter', NULL, now())",
            [ledger.FORMAT_VERSION + 1],
        )
    box.add_model("events", events_sql(12))
    result = run(*ARGS, "--ledger", str(path))
    assert result.code == 1
    assert f"format {ledger.FORMAT_VERSION + 1}" in result.err
    assert len(emu.store.events) == 10  # nothing sent by the refused run


def test_an_incomplete_or_foreign_ledger_is_refused(box, emu, run, tmp_path):
    box.add_model("events", events_sql(10))
    path = tmp_path / "ledger.duckdb"
    assert run(*ARGS, "--ledger", str(path)).code == 0
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE braze_export.deliveries")
    result = run(*ARGS, "--ledger", str(path))
    assert result.code == 1 and "deliveries" in result.err
    foreign = tmp_path / "notes.duckdb"
    foreign.write_text("these are not a ledger\n")
    result = run(*ARGS, "--ledger", str(foreign))
    assert result.code == 1 and str(foreign) in result.err
    assert foreign.read_text() == "these are not a ledger\n"
    with duckdb.connect(str(box.database)) as con:  # an unversioned table of another shape
        con.execute("CREATE SCHEMA braze_export")
        con.execute("CREATE TABLE braze_export.deliveries (k VARCHAR)")
        con.execute("CREATE TABLE braze_export.attribute_state (k VARCHAR)")
        con.execute("CREATE TABLE braze_export.runs (k VARCHAR)")
    result = run(*ARGS)
    assert result.code == 1 and "not recognised" in result.err
    assert len(emu.store.events) == 10


def test_a_new_ledger_file_takes_over_the_warehouse_ledger(box, emu, run, tmp_path):
    box.add_model("events", events_sql(25))
    assert run(*ARGS).code == 0  # the ledger in the warehouse, as before --ledger existed
    path = tmp_path / "ledger.duckdb"
    moved = run(*ARGS, "--ledger", str(path), "--require-ledger")
    assert moved.code == 0, moved.err
    assert "copied" in moved.err
    assert moved.report["sent"] == 0 and moved.report["already_delivered"] == 25
    assert len(emu.store.events) == 25


def test_a_dry_run_reads_a_ledger_file_and_writes_none(box, emu, run, tmp_path):
    box.add_model("events", events_sql(10))
    path = tmp_path / "ledger.duckdb"
    dry = ["--ledger", str(path), "--dry-run", "--dry-run-output"]
    missing = run(*ARGS, *dry, str(tmp_path / "a"))
    assert missing.code == 0 and missing.report["would_send"] == 10
    assert not path.exists()
    assert run(*ARGS, "--ledger", str(path)).code == 0
    box.add_model("events", events_sql(13))
    second = run(*ARGS, *dry, str(tmp_path / "b"))
    assert second.code == 0 and second.report["would_send"] == 3
    assert second.report["already_delivered"] == 10


def test_ledger_settings(tmp_path):
    from braze_currents.exporter.settings import ConfigError, parse_settings

    env = {"CURRENTS_DUCKDB_PATH": str(tmp_path / "w.duckdb")}
    env |= {"BRAZE_REST_ENDPOINT": "http://127.0.0.1:9", "BRAZE_API_KEY": "k"}
    plain = parse_settings(ARGS, env)
    assert plain.ledger_path is None and plain.ledger_file == tmp_path / "w.duckdb"
    assert plain.lock_timeout == 0 and not plain.require_ledger and not plain.first_run
    own_file = ["--ledger", str(tmp_path / "l.duckdb"), "--lock-timeout", "5"]
    own = parse_settings([*ARGS, *own_file], env)
    assert own.ledger_file == tmp_path / "l.duckdb" and own.lock_timeout == 5
    same_file = parse_settings([*ARGS, "--ledger", str(tmp_path / "w.duckdb")], env)
    assert same_file.ledger_path is None  # the warehouse's own ledger, as without the flag
    with pytest.raises(ConfigError, match="--lock-timeout"):
        parse_settings([*ARGS, "--lock-timeout", "-1"], env)
