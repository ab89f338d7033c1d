"""The Parquet landing: every row of every raw table, one set of files per load, written once."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from warehouse_testing import run_script

from braze_currents import landing_parquet
from braze_currents.landing_parquet import LandingError, check_shard, export_landing
from braze_currents.warehouse import connect

TABLES = list(landing_parquet.TABLES)


def event(i: str, t: int = 1790000000) -> dict:
    return {"id": i, "event_type": "users.behaviors.CustomEvent", "time": t, "user": {}}


def write_input(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def two_loads(tmp_path) -> Path:
    """A warehouse of two loads: one with a rejected record and a duplicate, one clean."""
    db = tmp_path / "wh.duckdb"
    first = write_input(
        tmp_path / "a.ndjson",
        json.dumps({"events": [event("e1"), event("e2")]}),
        "not json",
        json.dumps({"events": [event("e1"), event("e2")]}),  # the same batch again
        json.dumps({"no_events": 1}),
    )
    second = write_input(tmp_path / "b.ndjson", json.dumps({"events": [event("e3")]}))
    run_script("load_currents.py", "--database", str(db), str(first), str(second))
    return db


def landed(directory: Path, table: str) -> list[tuple]:
    """Every row of one table's Parquet files, with the file it came from."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    return con.execute(
        f"select * replace (parse_filename(filename) as filename) "
        f"from read_parquet('{directory}/{table}/*.parquet', filename = true) order by all"
    ).fetchall()


def warehouse_rows(db: Path, table: str) -> list[tuple]:
    con = connect(db, read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        select = landing_parquet._select(con, table)
        stamp = landing_parquet.TABLES[table]
        return con.execute(
            f"select {select}, strftime({stamp}, '%Y%m%dT%H%M%S%fZ-m1.parquet') "
            f"from raw.{table} order by all"
        ).fetchall()
    finally:
        con.close()


def export(db: Path, directory: Path, shard: str = "m1"):
    con = connect(db, read_only=True)
    try:
        return export_landing(con, directory, shard)
    finally:
        con.close()


def test_every_row_of_every_raw_table_lands_once_in_the_file_of_its_load(two_loads, tmp_path):
    out = tmp_path / "landing"
    result = export(two_loads, out)
    assert len(result.written) == 2 and result.already == 0
    for table in TABLES:
        files = sorted(p.name for p in (out / table).iterdir())
        # one file per load, also where the load gave the table no row (b.ndjson: no reject)
        assert files == [f"{s:%Y%m%dT%H%M%S%f}Z-m1.parquet" for s in result.written]
        assert landed(out, table) == warehouse_rows(two_loads, table)
    assert result.rows == {"currents_batches": 2, "currents_rejected": 2, "currents_loads": 2}
    assert len(landed(out, "currents_rejected")) == 2  # not json, no events: both kept


def test_the_files_keep_the_columns_and_write_json_as_text_and_timestamps_as_utc(
    two_loads, tmp_path
):
    out = tmp_path / "landing"
    export(two_loads, out)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    wh = connect(two_loads, read_only=True)
    for table in TABLES:
        schema = con.execute(
            f"select name, type, logical_type from parquet_schema("
            f"'{next((out / table).glob('*.parquet'))}') where name <> 'duckdb_schema'"
        ).fetchall()
        cols = wh.execute(
            "select column_name from duckdb_columns() where schema_name = 'raw' "
            "and table_name = ? order by column_index",
            [table],
        ).fetchall()
        assert [s[0] for s in schema] == [c[0] for c in cols]
        for name, _, logical in schema:
            if name in ("loaded_at", "received_at", "rejected_at"):
                assert "isAdjustedToUTC=1" in str(logical).replace(" ", ""), (name, logical)
    wh.close()
    events, received, loaded = con.execute(
        f"select events, received_at, loaded_at from '{out}/currents_batches/*.parquet' "
        "order by source_line limit 1"
    ).fetchone()
    assert json.loads(events)[0]["id"] == "e1"
    # the event's own time is not the batch's: received_at is the load's stamp here (NDJSON)
    assert received == loaded and loaded.tzinfo is not None


def test_an_export_writes_only_the_loads_the_directory_lacks(two_loads, tmp_path):
    out = tmp_path / "landing"
    export(two_loads, out)
    before = {p: p.read_bytes() for p in out.rglob("*.parquet")}
    third = write_input(tmp_path / "c.ndjson", json.dumps({"events": [event("e4")]}))
    run_script("load_currents.py", "--database", str(two_loads), str(third))
    again = export(two_loads, out)
    assert len(again.written) == 1 and again.already == 2
    assert again.rows == {"currents_batches": 1, "currents_rejected": 0, "currents_loads": 1}
    assert all(p.read_bytes() == b for p, b in before.items())  # untouched
    assert len(list(out.rglob("*.parquet"))) == 9
    for table in TABLES:
        assert landed(out, table) == warehouse_rows(two_loads, table)


def test_a_set_cut_short_is_written_again_and_no_hidden_file_is_left(two_loads, tmp_path):
    out = tmp_path / "landing"
    first = export(two_loads, out)
    name = landing_parquet.file_name(first.written[0], "m1")
    (out / "currents_loads" / name).unlink()  # as if stopped before its last file
    (out / "currents_batches" / name).unlink()
    again = export(two_loads, out)
    assert again.written == [first.written[0]] and again.already == 1
    for table in TABLES:
        assert landed(out, table) == warehouse_rows(two_loads, table)
    assert not [p for p in out.rglob(".*")]


def test_two_shards_write_side_by_side(two_loads, tmp_path):
    out = tmp_path / "landing"
    export(two_loads, out, "m1")
    export(two_loads, out, "m2")
    names = sorted(p.name.split("-", 1)[1] for p in (out / "currents_loads").iterdir())
    assert names == ["m1.parquet", "m1.parquet", "m2.parquet", "m2.parquet"]


def test_a_short_file_stops_the_export_and_is_not_published(two_loads, tmp_path, monkeypatch):
    out = tmp_path / "landing"
    real = landing_parquet._query

    def losing_rows(con, table):  # a writer that loses rows must be caught by the read-back
        return real(con, table) + (" and false" if table == "currents_rejected" else "")

    monkeypatch.setattr(landing_parquet, "_query", losing_rows)
    with pytest.raises(LandingError, match=r"wrote 0 rows of raw.currents_rejected"):
        export(two_loads, out)
    assert not list((out / "currents_rejected").iterdir())
    assert not list((out / "currents_loads").iterdir())  # the set is not marked complete


@pytest.mark.parametrize("name", ["", "-lead", "a/b", "a b", "x" * 64, "../up", "é"])
def test_a_shard_name_that_cannot_be_a_file_name_part_is_refused(name):
    with pytest.raises(LandingError, match="shard name"):
        check_shard(name)


@pytest.mark.parametrize("name", ["m1", "loader-03.eu", "A_b", "x" * 63])
def test_shard_names_that_are_accepted(name):
    assert check_shard(name) == name


def test_the_loader_writes_the_landing_and_says_so(tmp_path):
    db, out = tmp_path / "wh.duckdb", tmp_path / "landing"
    src = write_input(tmp_path / "a.ndjson", json.dumps({"events": [event("e1")]}), "{bad")
    args = ["--database", str(db), "--landing-parquet", str(out), "--landing-shard", "m1"]
    proc = run_script("load_currents.py", *args, str(src))
    assert "landing: 1 load(s) written to" in proc.stdout
    assert "(1 batches, 1 rejected, 1 loads); 0 already there" in proc.stdout
    assert len(landed(out, "currents_rejected")) == 1
    proc = run_script("load_currents.py", *args, str(src))  # nothing new: the load adds a loads row
    assert "landing: 1 load(s) written" in proc.stdout and "1 already there" in proc.stdout
    assert len(landed(out, "currents_batches")) == 1


def test_the_loader_refuses_a_bad_shard_before_loading_anything(tmp_path):
    db = tmp_path / "wh.duckdb"
    src = write_input(tmp_path / "a.ndjson", json.dumps({"events": [event("e1")]}))
    proc = run_script(
        "load_currents.py", "--database", str(db), "--landing-parquet", str(tmp_path / "l"),
        "--landing-shard", "a/b", str(src), check=False,
    )  # fmt: skip
    assert proc.returncode == 1 and "shard name 'a/b'" in proc.stderr
    assert not db.exists()


def test_an_unwritable_landing_fails_the_run_and_keeps_the_load(tmp_path):
    db, blocker = tmp_path / "wh.duckdb", tmp_path / "landing"
    blocker.write_text("a file where the directory should be")
    src = write_input(tmp_path / "a.ndjson", json.dumps({"events": [event("e1")]}))
    proc = run_script(
        "load_currents.py", "--database", str(db), "--landing-parquet", str(blocker),
        "--landing-shard", "m1", str(src), check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "cannot write the Parquet landing" in proc.stderr
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from raw.currents_batches").fetchone()[0] == 1
