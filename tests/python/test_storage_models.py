"""The storage path end to end: the events of the shared generated inputs, written as Braze's
storage connectors write them (Avro, flat records, one file per event type and hour), load and
build green, and every typed model holds the same values as from the Custom HTTP batches."""

from __future__ import annotations

import gzip
import json
import struct

import pytest
from warehouse_testing import Warehouse

from braze_currents.catalog import by_event_type, load_catalog
from braze_currents.devtools.generator import to_flat
from braze_currents.devtools.storage_writer import write_avro_tree


def _http_events(path) -> list[dict]:
    """Every event of the usable batch bodies of an NDJSON.gz input, in delivery order."""
    events = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            try:
                body = json.loads(line)
            except ValueError:
                continue  # a malformed record: its events are sent again later
            batch = body.get("events") if isinstance(body, dict) else None
            if isinstance(batch, list):
                events.extend(e for e in batch if isinstance(e, dict))
    return events


@pytest.fixture(scope="session")
def avro_warehouse(tmp_path_factory, dbt_target, faulty_inputs) -> Warehouse:
    """The events of `faulty_inputs` (those with a type: a storage file is per type) as an
    Avro storage tree, loaded and built."""
    path, _ = faulty_inputs
    catalog = by_event_type()
    flat = [
        to_flat(e, catalog.get(e["event_type"])) if "user" in e or "properties" in e else e
        for e in _http_events(path)
        if isinstance(e.get("event_type"), str) and e["event_type"]
    ]
    tree = tmp_path_factory.mktemp("storage") / "bucket"
    write_avro_tree(flat, tree)
    wh = Warehouse(tmp_path_factory.mktemp("avro") / "currents.duckdb", dbt_target)
    wh.load(tree)
    wh.dbt("build")  # fails the fixture on any error (warnings allowed)
    wh.tree = tree
    wh.build_results = json.loads((dbt_target / "run_results.json").read_text())
    return wh


def _float32(x):
    return None if x is None else struct.unpack("<f", struct.pack("<f", x))[0]


def _rows(wh: Warehouse, model: str, doubles: set[str], jsons: set[str], as_float32: bool):
    rows = wh.query(f"select * exclude (batch_id, loaded_at, properties) from staging.{model}")
    names = [
        r[0]
        for r in wh.query(
            "select column_name from information_schema.columns "
            "where table_schema = 'staging' and table_name = ? order by ordinal_position",
            [model],
        )
        if r[0] not in ("batch_id", "loaded_at", "properties")
    ]
    out = {}
    for row in rows:
        record = dict(zip(names, row, strict=True))
        for name in jsons & record.keys():
            if record[name] is not None:
                record[name] = json.loads(record[name])
        if as_float32:
            for name in doubles & record.keys():
                record[name] = _float32(record[name])
        out[record["event_id"]] = record
    return out


def test_a_storage_tree_builds_green_and_reloading_it_adds_nothing(avro_warehouse):
    statuses = {r["status"] for r in avro_warehouse.build_results["results"]}
    assert statuses <= {"success", "pass", "warn", "no-op"}, statuses
    before = avro_warehouse.scalar("select count(*) from raw.currents_batches")
    proc = avro_warehouse.load(avro_warehouse.tree)
    assert f"-> 0 new batches (0 events), {before:,} already loaded" in proc.stdout
    assert avro_warehouse.scalar("select count(*) from raw.currents_batches") == before


def test_every_typed_model_holds_the_same_values_by_http_and_by_avro(
    built_warehouse, avro_warehouse
):
    """Two differences are the storage format's, not the pipeline's: Avro floats are float32
    (a DOUBLE from Avro equals the HTTP value as float32), and Braze's storage schemas make
    custom event and purchase `properties` a required string, `{}` where an HTTP event has
    none (the typed JSON column is then `{}`, not NULL)."""
    compared = 0
    for et in load_catalog():
        if et.retired:  # Braze no longer sends these: the generator writes none, by either path
            continue
        doubles = {f.name for f in et.fields if f.data_type == "double"}
        jsons = {f.name for f in et.fields if f.data_type == "json"}
        stored_as_text = {f.name for f in et.fields if f.storage_key}
        avro = _rows(avro_warehouse, et.model, doubles, jsons, as_float32=False)
        http = _rows(built_warehouse, et.model, doubles, jsons, as_float32=True)
        assert avro, f"{et.model}: no event came by Avro"
        assert avro.keys() == http.keys(), et.model
        for event_id, row in avro.items():
            expected = dict(http[event_id])
            for name in stored_as_text:
                if expected[name] is None and row[name] == {}:
                    expected[name] = {}
            assert row == expected, (et.model, event_id)
        compared += len(avro)
    assert compared > 5000  # every usable event with a type, of every catalogued type
