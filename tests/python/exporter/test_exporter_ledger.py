"""The delivery journal and its application to the braze_export tables."""

from __future__ import annotations

import json

import duckdb
import pytest

from braze_currents.exporter import ledger
from braze_currents.exporter.batching import Item


def _item(n: int, state: str | None = None) -> Item:
    user = f"external_id:u{n}" if state else None
    return Item(n, f"h{n}", 1, "events", b"{}", user, state, 1)


def test_journal_survives_a_torn_tail_and_is_applied_once(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ledger.ensure_schema(con)
    directory = tmp_path / "journal"
    writer = ledger.LedgerWriter(directory, "k", "run1")
    assert writer.record([_item(1), _item(2, '{"a": "tab\\there"}')]).wait(5)
    assert writer.record([_item(3)]).wait(5)
    writer.close()
    with open(writer.path, "ab") as f:  # a process killed in the middle of a write
        f.write(b"h4\t1\t")
    assert ledger.apply_journals(con, directory) == 3
    assert not writer.path.exists()
    rows = con.execute(f"SELECT row_hash FROM {ledger.DELIVERIES} ORDER BY 1").fetchall()
    assert rows == [("h1",), ("h2",), ("h3",)]
    state = con.execute(f"SELECT user_key, attributes FROM {ledger.ATTRIBUTE_STATE}").fetchall()
    assert state == [("external_id:u2", '{"a": "tab\\there"}')]
    assert ledger.apply_journals(con, directory) == 0


def test_record_waits_for_durability_and_empty_records_are_immediate(tmp_path):
    writer = ledger.LedgerWriter(tmp_path / "j", "k", "run2")
    assert writer.record([]).is_set()
    done = writer.record([_item(1)])
    assert done.wait(5) and writer.recorded == 1 and writer.commits == 1
    writer.close()
    assert writer.path.read_text().splitlines()[1] == "h1\t1\t\t"


def test_a_recorded_line_is_in_the_file_when_record_returns(tmp_path):
    """The recording thread writes its lines itself: a SIGKILL right after ``record`` returns
    cannot lose them (only their fsync may still be running)."""
    writer = ledger.LedgerWriter(tmp_path / "j", "k", "run3")
    writer.record([_item(1), _item(2)])
    assert writer.path.read_text().splitlines()[1:] == ["h1\t1\t\t", "h2\t1\t\t"]
    writer.close()


def test_rotated_journal_files_are_applied_in_order_and_alone(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ledger.ensure_schema(con)
    directory = tmp_path / "journal"
    writer = ledger.LedgerWriter(directory, "k", "run4")
    assert writer.record([_item(1, '{"a": 1}')]).wait(5)
    first = writer.rotate()
    assert first is not None and first != writer.path
    assert writer.record([_item(1, '{"a": 2}'), _item(2)]).wait(5)
    assert ledger.apply_journal(con, first) == 1 and not first.exists()
    writer.close()
    assert ledger.apply_journals(con, directory) == 2  # the rest, the newer state last
    state = con.execute(
        f"SELECT arg_max(attributes, seq) FROM {ledger.ATTRIBUTE_STATE} GROUP BY user_key"
    ).fetchall()
    assert state == [('{"a": 2}',)]
    assert sorted(directory.iterdir()) == []


def test_a_journal_without_attribute_state_skips_that_table(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ledger.ensure_schema(con)
    writer = ledger.LedgerWriter(tmp_path / "j", "k", "run5", attribute_state=False)
    assert writer.record([_item(n) for n in range(1, 4)]).wait(5)
    writer.close()
    assert json.loads(writer.path.read_text().splitlines()[0])["attribute_state"] is False
    assert ledger.apply_journals(con, tmp_path / "j") == 3
    assert con.execute(f"SELECT count(*) FROM {ledger.DELIVERIES}").fetchone()[0] == 3
    assert con.execute(f"SELECT count(*) FROM {ledger.ATTRIBUTE_STATE}").fetchone()[0] == 0


def test_the_ledger_tables_are_found_without_the_catalog_views(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert not ledger.ledger_exists(con)
    ledger.ensure_schema(con)
    ledger.ensure_schema(con)  # again: nothing to do
    assert ledger.ledger_exists(con)


def test_a_ledger_is_created_whole_or_not_at_all(tmp_path, monkeypatch):
    """A run killed while it creates the ledger must not leave part of it: the next run would
    refuse the ledger as incomplete. The tables and the format row come in one transaction
    (one commit, so one fsync of DuckDB's log instead of one per table)."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt  # the signal arrives after the tables, before the format row

    monkeypatch.setattr(ledger, "_write_format_row", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ledger.check_format(con, ledger.IN_WAREHOUSE, "the warehouse")
    left = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'braze_export'"
    ).fetchall()
    assert left == []
    monkeypatch.undo()
    assert ledger.check_format(con, ledger.IN_WAREHOUSE, "the warehouse") == (
        ledger.FORMAT_VERSION,
        None,
    )
    assert ledger.has_history(con, "k") is False
