"""scripts/load_currents.py: every format, every kind of bad input, nothing lost, idempotent."""

from __future__ import annotations

import gzip
import itertools
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from warehouse_testing import run_script

from braze_currents import loader
from braze_currents.loader import classify, discover

GOOD = {
    "events": [
        {
            "id": "e-1",
            "event_type": "users.behaviors.CustomEvent",
            "time": 1790000000,
            "user": {"user_id": "b1", "external_user_id": "u1"},
            "properties": {"name": "opened_app"},
        }
    ]
}


def body(*ids: str, **extra) -> dict:
    events = [dict(GOOD["events"][0], id=i, **extra) for i in ids]
    return {"events": events}


def line(obj) -> str:
    return json.dumps(obj)


def write(path: Path, text: str | bytes, gz: bool = False) -> Path:
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def counts(wh) -> tuple[int, int]:
    return (
        wh.scalar("select count(*) from raw.currents_batches"),
        wh.scalar("select count(*) from raw.currents_rejected"),
    )


def rejects(wh) -> list[tuple]:
    return wh.query(
        "select parse_filename(source_file), source_line, reason, raw "
        "from raw.currents_rejected order by source_file, source_line"
    )


# ---- formats ------------------------------------------------------------------------------------
def test_every_format_lands_the_same_batches(tmp_path, empty_warehouse):
    bodies = [body("a1"), body("a2", "a3"), body("a4")]
    nd = "\n".join(map(line, bodies)) + "\n"
    write(tmp_path / "x.ndjson", nd)
    write(tmp_path / "x.jsonl.gz", nd, gz=True)
    write(tmp_path / "x.json", json.dumps(bodies))
    write(tmp_path / "single.json", json.dumps(bodies[0]))
    csv_rows = "time,events\n" + "".join(
        f'1790000000,"{json.dumps(b["events"]).replace(chr(34), chr(34) * 2)}"\n' for b in bodies
    )
    write(tmp_path / "x.csv", csv_rows)
    tsv_rows = "events\ttime\n" + "".join(f"{json.dumps(b['events'])}\t\n" for b in bodies)
    write(tmp_path / "x.tsv.gz", tsv_rows, gz=True)

    proc = empty_warehouse.load(tmp_path)
    assert "6 file(s)" in proc.stdout
    # The same three bodies arrive in every file: three batches, the rest are duplicates.
    assert counts(empty_warehouse) == (3, 0)
    log = empty_warehouse.query(
        "select parse_filename(source_file), records, accepted, duplicates, rejected "
        "from raw.currents_loads order by 1"
    )
    assert sum(r[1] for r in log) == 3 + 3 + 3 + 1 + 3 + 3
    assert all(r[1] == r[2] + r[3] + r[4] for r in log)
    events = empty_warehouse.query(
        "select source_line, events from raw.currents_batches order by source_line"
    )
    assert [json.loads(e) for _, e in events] == [b["events"] for b in bodies]


def test_td_export_time_column_sets_received_at(tmp_path, empty_warehouse):
    events = json.dumps(body("t1")["events"]).replace('"', '""')
    write(tmp_path / "td.csv", f'time,events\n1790000000,"{events}"\n')
    empty_warehouse.load(tmp_path / "td.csv")
    received = empty_warehouse.scalar("select received_at::varchar from raw.currents_batches")
    assert received == "2026-09-21 14:13:20"


def test_unreadable_time_column_keeps_the_batch_and_says_so(tmp_path, empty_warehouse):
    events = json.dumps(body("t2")["events"]).replace('"', '""')
    write(tmp_path / "td.csv", f'time,events\nyesterday,"{events}"\n')
    proc = empty_warehouse.load(tmp_path / "td.csv")
    assert counts(empty_warehouse) == (1, 0)
    assert "unreadable `time` column" in proc.stdout
    assert empty_warehouse.scalar("select received_at = loaded_at from raw.currents_batches")


# ---- bad input ----------------------------------------------------------------------------------
def test_bad_records_are_rejected_with_reason_and_line_next_to_good_ones(tmp_path, empty_warehouse):
    lines = [
        line(body("g1")),  # 1 good
        "{not json",  # 2
        line({"foo": 1}),  # 3 no events
        line({"events": {"a": 1}}),  # 4 events not an array
        line({"events": []}),  # 5 empty array: a valid, empty batch
        "",  # 6 blank
        "[1, 2]",  # 7 not an object
        line({"events": "[]"}),  # 8 events is a string
        line(body("g2")),  # 9 good
    ]
    write(tmp_path / "mixed.ndjson", "\n".join(lines) + "\n")
    proc = empty_warehouse.load(tmp_path / "mixed.ndjson")
    assert proc.returncode == 0
    assert rejects(empty_warehouse) == [
        ("mixed.ndjson", 2, "invalid JSON", "{not json"),
        ("mixed.ndjson", 3, 'batch body has no "events" field', '{"foo": 1}'),
        ("mixed.ndjson", 4, '"events" is not an array (got object)', '{"events": {"a": 1}}'),
        ("mixed.ndjson", 7, "batch body is not a JSON object (got array)", "[1, 2]"),
        ("mixed.ndjson", 8, '"events" is not an array (got string)', '{"events": "[]"}'),
    ]
    accepted = empty_warehouse.query(
        "select source_line, event_count from raw.currents_batches order by 1"
    )
    assert accepted == [(1, 1), (5, 0), (9, 1)]
    assert "1 blank line(s) skipped" in proc.stdout
    # Every non-blank record is in exactly one of the two tables.
    assert sum(counts(empty_warehouse)) == len([x for x in lines if x])


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_line_numbers_hold_when_duckdb_reads_a_file_in_parallel_buffers(
    tmp_path, empty_warehouse, monkeypatch, gz
):
    """DuckDB reads a file in buffers, on several threads; every record keeps the number of
    its line. Small buffers here, so that 3,000 lines span dozens of them."""
    monkeypatch.setattr(loader, "MAX_LINE_BYTES", 1 << 16)
    bad = {777: "{not json", 1500: "", 2222: line({"no_events": []}), 2999: "[1, 2]"}
    lines = [bad.get(n, line(body(f"e{n}", padding="x" * 500))) for n in range(1, 3001)]
    name = "big.ndjson.gz" if gz else "big.ndjson"
    path = write(tmp_path / name, "\n".join(lines) + "\n", gz=gz)
    assert path.stat().st_size > (20 << 16) or gz  # the plain file spans > 20 buffers
    [result] = loader.load_files(empty_warehouse.path, loader.discover([str(path)])[0])
    assert (result.accepted, result.rejected_total, result.blank_lines) == (2996, 3, 1), rejects(
        empty_warehouse
    )
    mismatched = empty_warehouse.scalar(
        "select count(*) from raw.currents_batches "
        "where json_extract_string(events, '$[0].id') <> 'e' || source_line"
    )
    assert mismatched == 0
    assert empty_warehouse.query(
        "select source_line, reason from raw.currents_rejected order by source_line"
    ) == [
        (777, "invalid JSON"),
        (2222, 'batch body has no "events" field'),
        (2999, "batch body is not a JSON object (got array)"),
    ]


def test_td_export_rows_keep_their_numbers_across_parallel_buffers(
    tmp_path, empty_warehouse, monkeypatch
):
    """The same for a Treasure Data export: a data row's number (from 1 after the header) is
    its place in the file, however DuckDB splits the file between its threads."""
    monkeypatch.setattr(loader, "MAX_LINE_BYTES", 1 << 16)
    bad = {321: "not json", 1999: '"{""a"":1}"'}

    def cell(n: int) -> str:
        return '"' + json.dumps(body(f"t{n}", padding="x" * 500)["events"]).replace('"', '""') + '"'

    rows = [f"{1790000000 + n},{bad.get(n) or cell(n)}" for n in range(1, 2501)]
    path = write(tmp_path / "td.csv", "time,events\n" + "\n".join(rows) + "\n")
    assert path.stat().st_size > (20 << 16)
    [result] = loader.load_files(empty_warehouse.path, loader.discover([str(path)])[0])
    assert (result.accepted, result.rejected_total) == (2498, 2), rejects(empty_warehouse)
    assert (
        empty_warehouse.scalar(
            "select count(*) from raw.currents_batches "
            "where json_extract_string(events, '$[0].id') <> 't' || source_line "
            "or received_at <> make_timestamp((1790000000 + source_line) * 1000000)"
        )
        == 0
    )
    assert [r[1:3] for r in rejects(empty_warehouse)] == [
        (321, "invalid JSON"),
        (1999, "events column is not a JSON array (got object)"),
    ]


def test_a_file_is_durable_once_loaded_though_the_loader_writes_no_wal(tmp_path, empty_warehouse):
    """The loader's connection writes no write-ahead log (bulk data would be written twice):
    each file is checkpointed when committed, so a loader killed after it keeps it."""
    first = write(tmp_path / "a.ndjson", line(body("k1")) + "\n" + line(body("k2")) + "\n")
    script = f"""
import os
from datetime import datetime
from braze_currents import loader
from braze_currents.warehouse import connect, ensure_raw_schema
con = connect({str(empty_warehouse.path)!r}, wal=False)
ensure_raw_schema(con)
[f] = loader.discover([{str(first)!r}])[0]
loader.load_file(con, f, datetime(2026, 12, 1))
os._exit(9)  # killed: no close, no final checkpoint
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    assert not Path(str(empty_warehouse.path) + ".wal").exists()
    assert counts(empty_warehouse) == (2, 0)
    assert empty_warehouse.scalar("select count(*) from raw.currents_loads") == 1


def test_loads_append_row_groups_that_checkpoints_never_merge(tmp_path, empty_warehouse):
    """Raw batches are wide: a checkpoint that merged part-full row groups would rewrite every
    batch loaded so far. Each load appends its own row groups, and they stay as written."""
    for n in range(3):
        empty_warehouse.load(write(tmp_path / f"day{n}.ndjson", line(body(f"d{n}")) + "\n"))
    empty_warehouse.dbt("run", "--select", "stg_braze_currents__batches")  # dbt checkpoints too
    assert (
        empty_warehouse.scalar(
            "select count(distinct row_group_id) from pragma_storage_info('raw.currents_batches')"
        )
        == 3
    )


def test_bad_events_inside_a_good_batch_are_accepted_for_staging(tmp_path, empty_warehouse):
    events = [
        {"event_type": "users.behaviors.CustomEvent", "time": 1},  # no id
        {"id": "x", "time": 1},  # no type
        {"id": "y", "event_type": "users.behaviors.CustomEvent", "time": "soon"},
        {"id": "z", "event_type": "users.messages.carrierpigeon.Send", "time": 1},
    ]
    write(tmp_path / "b.ndjson", line({"events": events}) + "\n")
    empty_warehouse.load(tmp_path / "b.ndjson")
    assert counts(empty_warehouse) == (1, 0)
    assert empty_warehouse.scalar("select event_count from raw.currents_batches") == 4


def test_empty_file(tmp_path, empty_warehouse):
    write(tmp_path / "empty.ndjson", "")
    proc = empty_warehouse.load(tmp_path / "empty.ndjson")
    assert proc.returncode == 0
    assert counts(empty_warehouse) == (0, 0)
    assert "0 records" in proc.stdout


def test_truncated_gzip_keeps_the_complete_lines_and_rejects_the_broken_one(
    tmp_path, empty_warehouse
):
    text = "\n".join(line(body(f"t{i}")) for i in range(50)) + "\n"
    data = gzip.compress(text.encode())
    write(tmp_path / "cut.ndjson.gz", data[: len(data) * 3 // 4])
    proc = empty_warehouse.load(tmp_path / "cut.ndjson.gz")
    assert proc.returncode == 0
    accepted, rejected = counts(empty_warehouse)
    assert rejected == 1
    assert 0 < accepted < 50
    (_name, where, reason, raw), *_ = rejects(empty_warehouse)
    assert "truncated gzip stream" in reason
    assert where == accepted + 1  # the line the stream broke in
    assert text.splitlines()[where - 1].startswith(raw)  # the part that could be read


def test_not_utf8_line_is_rejected_alone(tmp_path, empty_warehouse):
    data = (
        (line(body("u1")) + "\n").encode() + b"\xff\xfe oops\n" + (line(body("u2")) + "\n").encode()
    )
    write(tmp_path / "latin.ndjson", data)
    empty_warehouse.load(tmp_path / "latin.ndjson")
    assert counts(empty_warehouse) == (2, 1)
    assert rejects(empty_warehouse) == [
        ("latin.ndjson", 2, "not UTF-8 text (byte 1)", "\\xff\\xfe oops")
    ]


def test_csv_events_cell_that_is_not_json(tmp_path, empty_warehouse):
    good = json.dumps(body("c1")["events"]).replace('"', '""')
    write(
        tmp_path / "td.csv",
        f'time,events\n1790000000,"{good}"\n1790000000,not json\n1790000000,"{{""a"":1}}"\n',
    )
    empty_warehouse.load(tmp_path / "td.csv")
    assert counts(empty_warehouse) == (1, 2)
    assert [r[1:3] for r in rejects(empty_warehouse)] == [
        (2, "invalid JSON"),
        (3, "events column is not a JSON array (got object)"),
    ]


def test_csv_without_events_column_is_an_error_naming_the_file(tmp_path, empty_warehouse):
    write(tmp_path / "other.csv", "a,b\n1,2\n")
    write(tmp_path / "ok.ndjson", line(body("k1")) + "\n")
    proc = empty_warehouse.load(tmp_path / "other.csv", tmp_path / "ok.ndjson", check=False)
    assert proc.returncode == 1
    assert "other.csv" in proc.stderr and "no 'events' column" in proc.stderr
    assert counts(empty_warehouse) == (1, 0)  # the good file beside it still landed


def test_invalid_json_document(tmp_path, empty_warehouse):
    write(tmp_path / "broken.json", '{"events": [{"id": "j"}')
    empty_warehouse.load(tmp_path / "broken.json")
    (name, where, reason, raw), = rejects(empty_warehouse)  # fmt: skip
    assert (name, where, raw) == ("broken.json", 1, '{"events": [{"id": "j"}')
    assert reason.startswith("invalid JSON")


def test_json_array_with_bad_elements(tmp_path, empty_warehouse):
    write(tmp_path / "arr.json", json.dumps([body("j1"), 3, {"x": 1}]))
    empty_warehouse.load(tmp_path / "arr.json")
    assert counts(empty_warehouse) == (1, 2)
    assert [r[1:3] for r in rejects(empty_warehouse)] == [
        (2, "batch body is not a JSON object (got number)"),
        (3, 'batch body has no "events" field'),
    ]


# ---- idempotence and duplicates ---------------------------------------------------------------
def test_loading_the_same_input_twice_adds_nothing(tmp_path, empty_warehouse):
    write(tmp_path / "a.ndjson", line(body("i1")) + "\nnot json\n" + line(body("i2")) + "\n")
    empty_warehouse.load(tmp_path / "a.ndjson")
    first = counts(empty_warehouse)
    proc = empty_warehouse.load(tmp_path / "a.ndjson")
    assert counts(empty_warehouse) == first == (2, 1)
    assert "2 already loaded" in proc.stdout


def test_the_same_batch_in_two_files_lands_once_and_is_counted(tmp_path, empty_warehouse):
    write(tmp_path / "a.ndjson", line(body("d1")) + "\n")
    write(tmp_path / "b.ndjson", line(body("d1")) + "\n" + line(body("d1")) + "\n")
    empty_warehouse.load(tmp_path / "a.ndjson", tmp_path / "b.ndjson")
    assert counts(empty_warehouse) == (1, 0)
    assert empty_warehouse.query(
        "select parse_filename(source_file), records, accepted, duplicates "
        "from raw.currents_loads order by 1"
    ) == [("a.ndjson", 1, 1, 0), ("b.ndjson", 2, 0, 2)]


def test_same_event_in_two_batches_lands_in_both(tmp_path, empty_warehouse):
    """Deduplicating events is staging's job; the loader keeps both batches."""
    write(tmp_path / "a.ndjson", line(body("e1")) + "\n" + line(body("e1", "e2")) + "\n")
    empty_warehouse.load(tmp_path / "a.ndjson")
    assert counts(empty_warehouse) == (2, 0)


def test_generated_faulty_input_is_fully_accounted_for(faulty_inputs, empty_warehouse):
    path, stats = faulty_inputs
    empty_warehouse.load(path)
    batches, rejected = counts(empty_warehouse)
    malformed = sum(stats["malformed_records"].values())
    assert rejected == malformed > 0
    # Redelivered whole batches are duplicates of a batch already landed.
    assert batches == stats["batches"] - stats["redelivered_batches"]
    assert batches + rejected + stats["redelivered_batches"] == stats["records"]


# ---- load stamps --------------------------------------------------------------------------------
class ClockBehind(datetime):
    """A clock set back to 2020: behind every load of these tests."""

    @classmethod
    def now(cls, tz=None):
        return datetime(2020, 1, 1, tzinfo=UTC).astimezone(tz)


def test_loads_are_stamped_in_order_though_the_clock_goes_back(
    tmp_path, empty_warehouse, monkeypatch
):
    """An incremental model reads the loads newer than the newest one it holds, so a load
    stamped before one already in the warehouse would never be read. With the loader's clock
    behind the warehouse (another machine, a clock stepped back), each load is still stamped
    after every earlier one: in one run and across runs."""
    files = [write(tmp_path / f"{n}.ndjson", line(body(f"c{n}")) + "\n") for n in range(4)]
    empty_warehouse.load(files[0])  # the real clock
    monkeypatch.setattr(loader, "datetime", ClockBehind)
    for run in (files[1:3], files[3:]):
        loader.load_files(empty_warehouse.path, discover([str(f) for f in run])[0])
    stamps = empty_warehouse.query(
        "select loaded_at from raw.currents_loads order by parse_filename(source_file)"
    )
    assert len(stamps) == 4
    assert stamps == sorted(set(stamps)), stamps  # load order, strictly increasing
    # Each batch carries the stamp of its load.
    assert (
        empty_warehouse.query(
            "select loaded_at from raw.currents_batches order by parse_filename(source_file)"
        )
        == stamps
    )
    # A batch landed without a logged load (by hand, by another tool) counts too.
    con = duckdb.connect(str(empty_warehouse.path))
    con.execute(
        "insert into raw.currents_batches select * replace (timestamp '2030-01-01' as loaded_at) "
        "from raw.currents_batches limit 1"
    )
    con.close()
    loader.load_files(empty_warehouse.path, discover([str(write(tmp_path / "4.ndjson", "\n"))])[0])
    newest = empty_warehouse.scalar("select max(loaded_at) from raw.currents_loads")
    assert newest > datetime(2030, 1, 1)


# ---- inputs and errors ------------------------------------------------------------------------
def test_directories_and_globs_are_expanded(tmp_path, empty_warehouse):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    write(tmp_path / "d" / "a.ndjson", line(body("g1")) + "\n")
    write(tmp_path / "d" / "sub" / "b.ndjson.gz", line(body("g2")) + "\n", gz=True)
    write(tmp_path / "d" / "notes.txt", "ignore me")
    write(tmp_path / "c.ndjson", line(body("g3")) + "\n")
    proc = empty_warehouse.load(tmp_path / "d", str(tmp_path / "c.*"))
    assert counts(empty_warehouse) == (3, 0)
    assert "notes.txt" in proc.stderr  # skipped, and said so


def test_missing_input_exits_non_zero_and_loads_the_rest(tmp_path, empty_warehouse):
    write(tmp_path / "a.ndjson", line(body("m1")) + "\n")
    proc = empty_warehouse.load(tmp_path / "a.ndjson", tmp_path / "missing.ndjson", check=False)
    assert proc.returncode == 1
    assert "missing.ndjson" in proc.stderr
    assert counts(empty_warehouse) == (1, 0)


def test_unknown_extension_given_explicitly_is_an_error(tmp_path, empty_warehouse):
    write(tmp_path / "a.xml", "<events/>")
    proc = empty_warehouse.load(tmp_path / "a.xml", check=False)
    assert proc.returncode == 1
    assert "unknown input format" in proc.stderr


def test_unwritable_database_exits_non_zero(tmp_path, empty_warehouse):
    write(tmp_path / "a.ndjson", line(body("w1")) + "\n")
    (tmp_path / "db_is_a_dir.duckdb").mkdir()
    proc = run_script(
        "load_currents.py", "--database", str(tmp_path / "db_is_a_dir.duckdb"),
        str(tmp_path / "a.ndjson"), check=False,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "cannot" in proc.stderr


def test_database_path_comes_from_the_environment(tmp_path):
    write(tmp_path / "a.ndjson", line(body("v1")) + "\n")
    db = tmp_path / "from_env" / "w.duckdb"
    run_script(
        "load_currents.py", str(tmp_path / "a.ndjson"), env={"CURRENTS_DUCKDB_PATH": str(db)}
    )
    assert db.exists()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.ndjson", ("ndjson", False)),
        ("a.JSONL.gz", ("ndjson", True)),
        ("a.json", ("json", False)),
        ("a.csv.gz", ("csv", True)),
        ("a.tsv", ("tsv", False)),
        ("a.txt", None),
        ("a.gz", None),
        ("ndjson", None),
    ],
)
def test_classify(name, expected):
    assert classify(Path(name)) == expected


def test_discover_deduplicates_and_reports(tmp_path):
    write(tmp_path / "a.ndjson", "")
    files, errors, skipped = discover(
        [str(tmp_path / "a.ndjson"), str(tmp_path / "*.ndjson"), str(tmp_path / "nope*")]
    )
    assert [f.path.name for f in files] == ["a.ndjson"]
    assert errors == [f"{tmp_path / 'nope*'}: no such file, directory or matching glob"]
    assert skipped == []


# ---- repairs: a lone UTF-16 surrogate escape --------------------------------------------------
# RFC 8259 allows any \uXXXX escape, a lone surrogate included, and common encoders write them;
# DuckDB's JSON parser refuses them. Written by hand: json.dumps would escape the backslashes.
LONE = (
    '{"events": [{"id": "s1", "event_type": "users.behaviors.CustomEvent", "time": 1790000000, '
    '"properties": {"name": "x\\ud800y", "pair": "\\ud83d\\ude00", "text": "\\\\ud800", '
    '"low": "\\udc00"}}]}'
)


def repaired(wh) -> list[tuple]:
    return wh.query(
        "select parse_filename(source_file), source_line, repair, raw, batch_id "
        "from raw.currents_repaired order by source_file, source_line"
    )


def assert_repaired_event(wh, batch_line: int) -> None:
    props = json.loads(
        wh.scalar(
            "select json_extract(events, '$[0].properties') from raw.currents_batches "
            "where source_line = ?",
            [batch_line],
        )
    )
    # The lone surrogates became U+FFFD; a valid pair and an escaped backslash are untouched.
    assert props == {"name": "x\ufffdy", "pair": "\U0001f600", "text": "\\ud800", "low": "\ufffd"}


def test_a_lone_surrogate_escape_is_repaired_and_the_repair_recorded(tmp_path, empty_warehouse):
    lines = [line(body("r1")), LONE, line(body("r3")), "{not json"]
    write(tmp_path / "s.ndjson", "\n".join(lines) + "\n")
    proc = empty_warehouse.load(tmp_path / "s.ndjson")
    assert counts(empty_warehouse) == (3, 1)
    assert [r[1:3] for r in rejects(empty_warehouse)] == [(4, "invalid JSON")]
    assert_repaired_event(empty_warehouse, 2)
    [(name, where, repair, raw, batch_id)] = repaired(empty_warehouse)
    assert (name, where, raw) == ("s.ndjson", 2, LONE)  # the original text, as it came
    assert repair == "2 lone UTF-16 surrogate escape(s) replaced by U+FFFD"
    assert batch_id == empty_warehouse.scalar(
        "select batch_id from raw.currents_batches where source_line = 2"
    )
    assert "1 batch(es) repaired" in proc.stdout
    # Reloading repairs the same way: the same batch id, nothing added.
    proc = empty_warehouse.load(tmp_path / "s.ndjson")
    assert counts(empty_warehouse) == (3, 1)
    assert len(repaired(empty_warehouse)) == 1
    assert "3 already loaded" in proc.stdout


def test_a_repair_on_the_careful_path_keeps_line_numbers(tmp_path, empty_warehouse):
    """A gzip stream cut short sends the file down the careful path; the repair happens there
    too, and every record keeps its line."""
    lines = [line(body("c1")), LONE, "{not json"] + [line(body(f"c{n}")) for n in range(4, 60)]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    write(tmp_path / "cut.ndjson.gz", data[: len(data) * 3 // 4])
    [result] = loader.load_files(empty_warehouse.path, discover([str(tmp_path)])[0])
    assert result.recovered and result.repaired == 1
    assert_repaired_event(empty_warehouse, 2)
    assert [(r[1], r[3]) for r in repaired(empty_warehouse)] == [(2, LONE)]
    assert rejects(empty_warehouse)[0][1:3] == (3, "invalid JSON")


def test_a_repair_in_a_td_export_and_a_json_document(tmp_path, empty_warehouse):
    events = LONE[len('{"events": ') : -1]
    write(
        tmp_path / "td.csv", f'time,events\n1790000000,"{events.replace(chr(34), chr(34) * 2)}"\n'
    )
    write(tmp_path / "doc.json", f"[{line(body('j1'))}, {LONE.replace('s1', 's2')}]")
    proc = empty_warehouse.load(tmp_path / "td.csv", tmp_path / "doc.json")
    assert counts(empty_warehouse) == (3, 0), proc.stdout
    assert_repaired_event(empty_warehouse, 1)  # the TD row
    assert [r[:2] for r in repaired(empty_warehouse)] == [("doc.json", 2), ("td.csv", 1)]
    assert repaired(empty_warehouse)[1][3] == events
    # The JSON document's element, as Python's encoder writes it back (escapes kept).
    assert json.loads(repaired(empty_warehouse)[0][3]) == json.loads(LONE.replace("s1", "s2"))
    assert "\\ud800" in repaired(empty_warehouse)[0][3]


def test_a_record_still_unusable_after_its_repair_keeps_its_original_text(
    tmp_path, empty_warehouse
):
    bad = '{"no_events": "\\ud800"}'
    write(tmp_path / "b.ndjson", bad + "\n")
    empty_warehouse.load(tmp_path / "b.ndjson")
    assert rejects(empty_warehouse) == [
        (
            "b.ndjson",
            1,
            'batch body has no "events" field '
            "(after 1 lone UTF-16 surrogate escape(s) replaced by U+FFFD)",
            bad,
        )
    ]
    assert repaired(empty_warehouse) == []


@pytest.mark.parametrize(
    ("text", "expected", "n"),
    [
        ('"\\ud800"', '"\\ufffd"', 1),
        ('"\\uDBFF\\uDFFF"', '"\\uDBFF\\uDFFF"', 0),  # a pair, upper case
        ('"\\udfff\\ud800"', '"\\ufffd\\ufffd"', 2),  # low then high: both lone
        ('"\\\\ud800"', '"\\\\ud800"', 0),  # an escaped backslash, then text
        ('"\\\\\\ud800"', '"\\\\\\ufffd"', 1),  # an escaped backslash, then an escape
        ('"\\ud800\\u0041"', '"\\ufffd\\u0041"', 1),
        ('"\\u00e9"', '"\\u00e9"', 0),
    ],
)
def test_repair_lone_surrogates(text, expected, n):
    assert loader.repair_lone_surrogates(text) == (expected, n)


# ---- a .gz that cannot be decompressed at all ------------------------------------------------
def _not_gzip(text: str) -> bytes:
    return text.encode()


def _bad_header(text: str) -> bytes:
    data = bytearray(gzip.compress(text.encode()))
    data[2] = 99  # compression method: only 8 (deflate) exists
    return bytes(data)


def _bad_magic(text: str) -> bytes:
    return b"\x1f\x8c" + gzip.compress(text.encode())[2:]


@pytest.mark.parametrize("spoil", [_not_gzip, _bad_header, _bad_magic])
@pytest.mark.parametrize("name", ["x.ndjson.gz", "x.csv.gz", "x.json.gz"])
def test_a_gz_that_cannot_be_decompressed_is_a_file_error(tmp_path, empty_warehouse, spoil, name):
    """Not a gzip file, or a corrupt header: nothing of it can be read, so nothing of it is
    recorded as if it were (no reject with empty text): the run exits 1 and names the file,
    on stderr and in the summary. The good file beside it still lands."""
    events = json.dumps(body("z1")["events"])
    text = {
        "x.ndjson.gz": line(body("z1")) + "\n",
        "x.csv.gz": 'events\n"' + events.replace('"', '""') + '"\n',
        "x.json.gz": json.dumps([body("z1")]),
    }[name]
    write(tmp_path / name, spoil(text))
    write(tmp_path / "ok.ndjson", line(body("k1")) + "\n")
    proc = empty_warehouse.load(tmp_path / name, tmp_path / "ok.ndjson", check=False)
    assert proc.returncode == 1, proc.stdout
    assert name in proc.stderr and "cannot be decompressed" in proc.stderr
    summary = proc.stdout.splitlines()
    assert any(name in s and "cannot be decompressed" in s for s in summary), proc.stdout
    assert counts(empty_warehouse) == (1, 0)  # ok.ndjson only; no empty reject
    assert empty_warehouse.query("select parse_filename(source_file) from raw.currents_loads") == [
        ("ok.ndjson",)
    ]


def test_a_gz_cut_short_inside_its_first_line_keeps_what_it_read(tmp_path, empty_warehouse):
    """A stream that breaks after some bytes could be read is not a file error: the part read
    is kept as a reject (complete lines land; see
    test_truncated_gzip_keeps_the_complete_lines_and_rejects_the_broken_one)."""
    text = "\n".join(line(body(f"h{i}")) for i in range(50)) + "\n"
    data = gzip.compress(text.encode())
    write(tmp_path / "cut.ndjson.gz", data[: len(data) // 2])  # 170 bytes of line 1
    proc = empty_warehouse.load(tmp_path / "cut.ndjson.gz")
    assert proc.returncode == 0
    [(_name, where, reason, raw)] = rejects(empty_warehouse)
    assert (where, reason) == (1, "truncated gzip stream: the input ends inside this line")
    assert raw and text.startswith(raw)


# ---- large files: line-aligned parts ------------------------------------------------------------
def test_parts_of_a_file_are_line_aligned_and_cover_it(tmp_path):
    data = (
        b"".join(
            [b"a" * 10 + b"\n", b"b" * 250 + b"\n", b"\n", b"c" * 5 + b"\r\n", b"d" * 40 + b"\n"]
            * 7
        )
        + b"e" * 30
    )  # no newline at the end
    path = write(tmp_path / "p.ndjson", data)
    parts = list(loader.line_parts(path, 100))
    assert len(parts) > 5
    assert parts[0].start == 0 and parts[-1].end == len(data)
    for before, after in itertools.pairwise(parts):
        assert before.end == after.start
        assert data[before.end - 1 : before.end] == b"\n"  # a part ends with its last line
    for part in parts:
        assert part.end - part.start >= min(100, len(data) - part.start)
        assert part.lines_before == data[: part.start].count(b"\n")
    # A line longer than a part (the 250 bytes of b) is one part's end, never cut.
    assert all(b"b" * 250 in data[p.start : p.end] or b"b" not in data[p.start : p.end]
               for p in parts)  # fmt: skip


def test_a_file_too_small_to_split_is_one_part(tmp_path):
    path = write(tmp_path / "p.ndjson", "x\n" * 10)
    assert [(p.start, p.end, p.lines_before) for p in loader.line_parts(path, 1000)] == [(0, 20, 0)]
    assert list(loader.line_parts(write(tmp_path / "e.ndjson", ""), 1000)) == []


def _landing(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        q = {
            "batches": "select batch_id, source_file, source_line, received_at = loaded_at, "
            "events::varchar, event_count from raw.currents_batches order by source_line",
            "rejected": "select reject_id, source_file, source_line, reason, raw "
            "from raw.currents_rejected order by source_line",
            "repaired": "select batch_id, source_file, source_line, repair, raw "
            "from raw.currents_repaired order by source_line",
            "loads": "select source_file, records, accepted, duplicates, rejected, blank_lines, "
            "events, recovered from raw.currents_loads",
        }
        return {name: con.execute(sql).fetchall() for name, sql in q.items()}
    finally:
        con.close()


def test_a_file_loaded_in_parts_lands_exactly_as_a_whole(tmp_path, monkeypatch):
    """A large NDJSON file is loaded in line-aligned parts, one after the other; every batch,
    reject, repair, line number and count is the same as when the file is loaded whole,
    including a batch repeated in a later part, a part that needs the careful path (a line that
    is not UTF-8) and a lone surrogate to repair."""
    lines: list[bytes] = []
    for n in range(1, 121):
        lines.append(line(body(f"p{n}", padding="x" * (n * 7 % 90))).encode())
    lines[2] = b"{not json"
    lines[10] = b""
    lines[11] = b"   "
    lines[20] = line({"no_events": []}).encode()
    lines[33] = lines[4]  # the same batch again, in another part: a duplicate
    lines[57] = b'{"events": [{"id": "bad\xff"}]}'  # not UTF-8: that part is read line by line
    lines[80] = LONE.encode()
    lines[95] = lines[95] + b"\r"
    path = write(tmp_path / "big.ndjson", b"\n".join(lines))  # no newline after the last line
    [f] = discover([str(path)])[0]

    monkeypatch.setattr(loader, "PART_BYTES", 1 << 30)
    [whole] = loader.load_files(tmp_path / "whole.duckdb", [f])
    monkeypatch.setattr(loader, "PART_BYTES", 1500)
    [parts] = loader.load_files(tmp_path / "parts.duckdb", [f])

    assert whole.parts == 1 and parts.parts > 5
    assert parts.recovered and whole.recovered
    summary = ("records", "accepted", "duplicates", "rejected", "blank_lines", "events",
               "bad_time_values", "repaired")  # fmt: skip
    assert {k: getattr(parts, k) for k in summary} == {k: getattr(whole, k) for k in summary}
    assert (whole.accepted, whole.duplicates, whole.blank_lines, whole.repaired) == (114, 1, 2, 1)
    assert whole.rejected == {"invalid JSON": 1, 'batch body has no "events" field': 1,
                              "not UTF-8 text (byte 24)": 1}  # fmt: skip
    landed_whole, landed_parts = (
        _landing(tmp_path / "whole.duckdb"),
        _landing(tmp_path / "parts.duckdb"),
    )
    assert landed_parts == landed_whole
    assert [r[2] for r in landed_whole["rejected"]] == [3, 21, 58]
    assert [r[2] for r in landed_whole["repaired"]] == [81]
    assert len(landed_whole["loads"]) == 1  # one row for the file, however many parts


def test_a_file_in_parts_is_idempotent_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    lines = [line(body(f"q{n}", padding="y" * 50)) for n in range(40)]
    path = write(tmp_path / "q.ndjson", "\n".join(lines) + "\n")
    monkeypatch.setattr(loader, "PART_BYTES", 400)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(loader.tempfile, "tempdir", None)
    db = tmp_path / "q.duckdb"
    [first] = loader.load_files(db, discover([str(path)])[0])
    [again] = loader.load_files(db, discover([str(path)])[0])
    assert first.parts > 3 and (first.accepted, first.duplicates) == (40, 0)
    assert (again.accepted, again.duplicates, again.records) == (0, 40, 40)
    assert list((tmp_path / "tmp").iterdir()) == []
