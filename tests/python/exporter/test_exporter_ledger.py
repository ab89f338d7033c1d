"""The delivery journal and its application to the braze_export tables."""

from __future__ import annotations

import duckdb

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
