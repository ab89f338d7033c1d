"""Storage inputs: Avro files of Braze's storage connectors and one-row-per-event CSV/TSV
exports land as batches of flat events, losslessly, and reloading them adds nothing."""

from __future__ import annotations

import base64
import gzip
import json
import math
import struct
from pathlib import Path, PurePath

import fastavro
import pytest

from braze_currents import loader, storage
from braze_currents.devtools.storage_writer import write_avro_tree, write_event_rows

T0 = 1790000000  # 2026-09-21 14:13:20 UTC


def purchase(n: int, **extra) -> dict:
    return {
        "event_type": "users.behaviors.Purchase",
        "id": f"p{n}",
        "user_id": f"b{n % 3}",
        "external_user_id": f"u{n % 3}",
        "time": T0 + n,
        "product_id": "sku-1",
        "price": 3.14,
        "currency": "USD",
        "properties": json.dumps({"colour": "red", "n": n}),
        "sdk_version": "5.1.0",  # storage-only fields stay
        "ad_tracking_enabled": n % 2 == 0,
        **extra,
    }


def email_open(n: int) -> dict:
    return {
        "event_type": "users.messages.email.Open",
        "id": f"o{n}",
        "user_id": f"b{n}",
        "time": T0 + 3600 + n,
        "email_address": f"u{n}@example.com",
        "machine_open": "true",
        "is_amp": False,
    }


def counts(wh) -> tuple[int, int]:
    return (
        wh.scalar("select count(*) from raw.currents_batches"),
        wh.scalar("select count(*) from raw.currents_rejected"),
    )


def landed_events(wh) -> list[dict]:
    rows = wh.query("select events from raw.currents_batches order by source_file, source_line")
    return [e for (events,) in rows for e in json.loads(events)]


def float32(x: float) -> float:
    """``x`` as an Avro float (float32) reads back."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


# ---- Avro ---------------------------------------------------------------------------------------
def test_an_avro_storage_tree_lands_every_record_as_a_flat_event(tmp_path, empty_warehouse):
    events = [purchase(n) for n in range(200)] + [email_open(n) for n in range(5)]
    files = write_avro_tree(events, tmp_path / "bucket" / "currents", sync_interval=2000)
    assert {f.parent.parent.name for f in files} == {
        "event_type=users.behaviors.Purchase",
        "event_type=users.messages.email.Open",
    }
    proc = empty_warehouse.load(tmp_path / "bucket")
    assert proc.returncode == 0, proc.stderr
    landed = landed_events(empty_warehouse)
    assert len(landed) == 205
    by_id = {e["id"]: e for e in landed}
    for e in events:
        got = by_id[e["id"]]
        expected = dict(e)
        if "price" in e:  # Avro float: float32, kept as read
            expected["price"] = float32(e["price"])
            assert got["price"] == 3.140000104904175
        assert got == expected  # every field, event_type first from the folder
    # One batch per Avro block, numbered in its file; the hour of the folder is received_at.
    blocks = sum(1 for f in files for _ in fastavro.block_reader(open(f, "rb")))  # noqa: SIM115
    assert blocks > 2
    assert counts(empty_warehouse) == (blocks, 0)
    lines = empty_warehouse.query(
        "select parse_filename(source_file), list(source_line order by source_line), "
        "min(received_at)::varchar from raw.currents_batches group by 1, source_file order by 3"
    )
    assert [r[2] for r in lines] == ["2026-09-21 14:00:00", "2026-09-21 15:00:00"]
    assert all(r[1] == list(range(1, len(r[1]) + 1)) for r in lines)
    # Reloading adds nothing: the same blocks give the same batch ids.
    proc = empty_warehouse.load(tmp_path / "bucket")
    assert counts(empty_warehouse) == (blocks, 0)
    assert f"{blocks} already loaded" in proc.stdout


def test_the_event_type_comes_from_the_schema_name_without_the_storage_layout(
    tmp_path, empty_warehouse
):
    [tree_file] = write_avro_tree([email_open(1)], tmp_path / "tree")
    flat = tmp_path / "loose.avro"
    flat.write_bytes(tree_file.read_bytes())
    gz = tmp_path / "loose2.avro.gz"
    gz.write_bytes(gzip.compress(tree_file.read_bytes()))
    empty_warehouse.load(flat, gz)
    assert counts(empty_warehouse) == (1, 0)  # the .gz holds the same block
    assert landed_events(empty_warehouse)[0]["event_type"] == "users.messages.email.Open"


def test_an_avro_file_that_names_no_event_type_is_a_file_error(tmp_path, empty_warehouse):
    schema = {"type": "record", "name": "Thing", "fields": [{"name": "id", "type": "string"}]}
    with open(tmp_path / "thing.avro", "wb") as out:
        fastavro.writer(out, schema, [{"id": "x"}])
    (tmp_path / "not.avro").write_text("hello")
    proc = empty_warehouse.load(tmp_path / "thing.avro", tmp_path / "not.avro", check=False)
    assert proc.returncode == 1
    assert "thing.avro: cannot tell the event type" in proc.stderr
    assert "not.avro: not an Avro object container file" in proc.stderr
    assert counts(empty_warehouse) == (0, 0)


def test_a_truncated_avro_file_keeps_its_complete_blocks_and_the_rest_as_a_reject(
    tmp_path, empty_warehouse
):
    [path] = write_avro_tree(
        [purchase(n) for n in range(100)], tmp_path / "tree", sync_interval=1500
    )
    data = path.read_bytes()
    blocks = list(fastavro.block_reader(open(path, "rb")))  # noqa: SIM115
    cut = blocks[3].offset + blocks[3].size // 2  # inside the 4th block
    path.write_bytes(data[:cut])
    proc = empty_warehouse.load(path)
    assert proc.returncode == 0, proc.stderr
    assert counts(empty_warehouse) == (3, 1)
    [(line, reason, raw)] = empty_warehouse.query(
        "select source_line, reason, raw from raw.currents_rejected"
    )
    assert line == 4 and reason.startswith("Avro block 4 cannot be read")
    assert base64.b64decode(raw.removeprefix("base64:")) == data[blocks[3].offset : cut]
    assert len(landed_events(empty_warehouse)) == sum(b.num_records for b in blocks[:3])


def test_avro_values_json_has_no_word_for_are_kept_as_text():
    assert json.loads(storage.body_json([{"a": math.nan, "b": [math.inf], "c": b"\x00\xff"}])) == {
        "events": [{"a": "nan", "b": ["inf"], "c": "AP8="}]
    }


@pytest.mark.parametrize(
    ("path", "event_type", "hour"),
    [
        (
            "b/currents/dataexport.prod-03.S3.integration.5e1/event_type=users.messages.email.Open"
            "/date=2026-11-05-07/x.avro",
            "users.messages.email.Open",
            "2026-11-05T07:00:00+00:00",
        ),
        ("b/event_type=users.canvas.Entry/date=2026-11-05/x.avro", "users.canvas.Entry", None),
        ("b/x.avro", None, None),
        ("b/date=2026-13-40-99/x.avro", None, "invalid"),
    ],
)
def test_storage_paths(path, event_type, hour):
    assert storage.event_type_from_path(PurePath(path)) == event_type
    got = storage.hour_from_path(PurePath(path))
    if hour == "invalid":
        assert got is None
    elif hour is None:
        assert got is None or "date=2026-11-05" in path
    else:
        from datetime import datetime

        assert got == datetime.fromisoformat(hour).timestamp()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dataexport.S3.inner.users.messages.email.Open", "users.messages.email.Open"),
        ("dataexport.GCS.inner.agentconsole.AgentExecuted", "agentconsole.AgentExecuted"),
        ("users.behaviors.UpgradedApp", "users.behaviors.UpgradedApp"),
        ("Open", None),
        (None, None),
    ],
)
def test_event_type_from_schema(name, expected):
    assert storage.event_type_from_schema(name) == expected


# ---- one-row-per-event exports ----------------------------------------------------------------
def test_a_one_row_per_event_csv_export_lands_like_avro(tmp_path, empty_warehouse):
    events = [purchase(n, media_urls=["a", None]) for n in range(3)] + [email_open(1)]
    write_event_rows(events, tmp_path / "td" / "currents_events.csv")
    proc = empty_warehouse.load(tmp_path / "td")
    assert proc.returncode == 0, proc.stderr
    landed = {e["id"]: e for e in landed_events(empty_warehouse)}
    # Cells are text (the typed models convert them), lists are JSON, missing fields absent.
    assert landed["p1"] == {
        "event_type": "users.behaviors.Purchase",
        "id": "p1",
        "user_id": "b1",
        "external_user_id": "u1",
        "time": str(T0 + 1),
        "product_id": "sku-1",
        "price": "3.14",
        "currency": "USD",
        "properties": json.dumps({"colour": "red", "n": 1}),
        "sdk_version": "5.1.0",
        "ad_tracking_enabled": "false",
        "media_urls": ["a", None],
    }
    assert landed["o1"]["event_type"] == "users.messages.email.Open"
    assert "product_id" not in landed["o1"]
    assert counts(empty_warehouse) == (1, 0)
    empty_warehouse.load(tmp_path / "td")
    assert counts(empty_warehouse) == (1, 0)


def test_a_per_type_tsv_export_takes_its_type_from_the_folder_and_rejects_bad_rows(
    tmp_path, empty_warehouse, monkeypatch
):
    monkeypatch.setattr(storage, "CSV_BATCH_ROWS", 2)
    folder = tmp_path / "event_type=users.messages.email.Open"
    rows = [email_open(n) for n in range(5)]
    path = write_event_rows(rows, folder / "part.tsv", delimiter="\t")
    header, *lines = path.read_text().splitlines()
    header = header.replace("event_type\t", "")
    lines = [ln.split("\t", 1)[1] for ln in lines]
    lines.insert(2, "only\ttwo")  # row 3
    path.write_text("\n".join([header, *lines]) + "\n")
    [result] = loader.load_files(empty_warehouse.path, loader.discover([str(tmp_path)])[0])
    assert (result.accepted, result.rejected_total, result.events) == (3, 1, 5)
    assert empty_warehouse.query(
        "select source_line, event_count from raw.currents_batches order by 1"
    ) == [(1, 2), (4, 2), (6, 1)]
    assert empty_warehouse.query("select source_line, reason, raw from raw.currents_rejected") == [
        (3, "CSV row has 2 fields, the header 6", "only\ttwo")
    ]
    assert {e["event_type"] for e in landed_events(empty_warehouse)} == {
        "users.messages.email.Open"
    }


def test_a_per_event_export_without_an_event_type_is_a_file_error(tmp_path, empty_warehouse):
    (tmp_path / "events.csv").write_text(f"id,time\ne1,{T0}\n")
    proc = empty_warehouse.load(tmp_path / "events.csv", check=False)
    assert proc.returncode == 1
    assert "needs an 'event_type' column" in proc.stderr
    assert counts(empty_warehouse) == (0, 0)


@pytest.mark.parametrize(
    ("text", "value"),
    [("", None), ("abc", "abc"), ("12", "12"), ('["a"]', ["a"]), ("[oops]", "[oops]")],
)
def test_cell_value(text, value):
    assert storage.cell_value(text) == value


def test_discover_finds_avro_files(tmp_path):
    (tmp_path / "a" / "event_type=x.Y").mkdir(parents=True)
    (tmp_path / "a" / "event_type=x.Y" / "0.avro").write_bytes(b"")
    files, errors, _ = loader.discover([str(tmp_path)])
    assert [(f.path.name, f.fmt) for f in files] == [("0.avro", "avro")] and not errors
    assert loader.classify(Path("x.avro.gz")) == ("avro", True)


def test_many_avro_files_load_in_few_transactions_each_accounted_for(
    tmp_path, empty_warehouse, monkeypatch
):
    """Avro files are loaded several to a transaction (a storage tree holds one file per type
    and hour); each file keeps its own name, block numbers and log row, a file that cannot be
    read is an error of its own, and the same block in two files lands once."""
    monkeypatch.setattr(loader, "STORAGE_CHUNK_FILES", 3)
    events = [purchase(n) for n in range(6)] + [email_open(n) for n in range(4)]
    files = write_avro_tree(events, tmp_path / "tree", sync_interval=300)
    copy = files[0].with_name("1.avro")  # the same blocks again
    copy.write_bytes(files[0].read_bytes())
    bad = files[0].with_name("2.avro")
    bad.write_bytes(b"Obj\x01 broken")
    found = loader.discover([str(tmp_path / "tree")])[0]
    assert len(found) == 4
    results = loader.load_files(empty_warehouse.path, found)
    by_name = {
        Path(r.source_file).name + Path(r.source_file).parent.parent.name: r for r in results
    }
    first = by_name["0.avroevent_type=users.behaviors.Purchase"]
    again = by_name["1.avroevent_type=users.behaviors.Purchase"]
    broken = by_name["2.avroevent_type=users.behaviors.Purchase"]
    assert first.accepted == first.records > 1 and first.duplicates == 0
    assert (again.accepted, again.duplicates) == (0, first.records)
    assert broken.error and "not an Avro object container file" in broken.error
    assert len(landed_events(empty_warehouse)) == 10
    log = empty_warehouse.query(
        "select parse_filename(source_file), records, accepted, duplicates, events "
        "from raw.currents_loads order by source_file"
    )
    assert len(log) == 3 and sum(r[4] for r in log) == 10
    assert all(r[1] == r[2] + r[3] for r in log)
    assert empty_warehouse.scalar("select count(distinct loaded_at) from raw.currents_loads") == 2
    # Blocks keep their number in their own file.
    blocks = empty_warehouse.query(
        "select list(source_line order by source_line) from raw.currents_batches "
        "group by source_file order by source_file"
    )
    assert [b for (b,) in blocks] == [[*range(1, first.records + 1)], [1]]


def test_the_summary_lists_a_storage_tree_in_a_few_lines(tmp_path, empty_warehouse):
    events = [dict(email_open(n), time=T0 + n * 3600) for n in range(30)]  # 30 hours: 30 files
    write_avro_tree(events, tmp_path / "tree")
    proc = empty_warehouse.load(tmp_path / "tree")
    lines = proc.stdout.splitlines()
    assert len(lines) < 20
    rest = next(line for line in lines if "more file(s)" in line)
    assert rest.split()[1:3] == ["18", "more"] and rest.split()[-4:] == ["18", "18", "0", "0"]
    assert "30 file(s)" in lines[-1] and "30 new batches (30 events)" in lines[-1]


def test_files_load_in_the_inputs_order_consecutive_avro_files_together(monkeypatch):
    """The first loaded copy of an event is kept: Avro files are not loaded before the files
    given ahead of them."""
    monkeypatch.setattr(loader, "STORAGE_CHUNK_FILES", 2)
    monkeypatch.setattr(Path, "stat", lambda self: type("S", (), {"st_size": 10})())
    names = ["a.avro", "b.ndjson", "c.avro", "d.avro", "e.avro", "f.csv"]
    files = [loader.InputFile(Path(n), *loader.classify(Path(n))) for n in names]
    units = [[f.path.name for f in u] for u in loader._load_units(files)]
    assert units == [["a.avro"], ["b.ndjson"], ["c.avro", "d.avro"], ["e.avro"], ["f.csv"]]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("users.messages.email.Open.csv", "users.messages.email.Open"),
        ("users.behaviors.Purchase.tsv.gz", "users.behaviors.Purchase"),
        ("events.csv", None),
        ("2026-11-05.export.csv", None),
    ],
)
def test_event_type_from_file_name(name, expected):
    assert storage.event_type_from_file_name(PurePath(name)) == expected


def test_a_per_type_export_named_after_its_type(tmp_path, empty_warehouse):
    (tmp_path / "users.messages.email.Open.csv").write_text(f"id,time,user_id\no9,{T0},b9\n")
    empty_warehouse.load(tmp_path)
    assert landed_events(empty_warehouse) == [
        {"event_type": "users.messages.email.Open", "id": "o9", "time": str(T0), "user_id": "b9"}
    ]
