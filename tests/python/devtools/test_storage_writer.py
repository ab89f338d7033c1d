"""The storage writer: Braze-shaped Avro schemas and trees, for fixtures, the demo and the
benchmark; and the generator's --avro output."""

from __future__ import annotations

import gzip
import json
import struct

import fastavro
from test_storage import purchase
from warehouse_testing import generate

from braze_currents.catalog import by_event_type
from braze_currents.devtools.generator import to_flat
from braze_currents.devtools.storage_writer import avro_schema


def test_the_generated_schema_is_braze_shaped():
    schema = avro_schema("users.behaviors.Purchase", [purchase(1), purchase(2, price=5)])
    fields = {f["name"]: f["type"] for f in schema["fields"]}
    assert schema["name"] == "dataexport.S3.inner.users.behaviors.Purchase"
    assert [f["name"] for f in schema["fields"]][:4] == [
        "id",
        "user_id",
        "external_user_id",
        "time",
    ]
    assert fields["id"] == "string" and fields["time"] == "long"
    assert fields["price"] == ["null", "float"]  # an int among floats stays one float branch
    assert fields["ad_tracking_enabled"] == ["null", "boolean"]
    assert fields["properties"] == ["null", "string"]


def test_the_generator_writes_the_same_events_as_an_avro_storage_tree(tmp_path):
    """--avro writes the events of the same simulation (same flags) in the flat envelope, one
    file per event type and hour, as Braze's storage connectors lay them out."""
    args = ("--events", "600", "--seed", "9", "--duplicate-rate", "0")
    generate(tmp_path / "http.ndjson.gz", *args)
    generate(tmp_path / "tree", *args, "--avro")
    files = sorted((tmp_path / "tree").rglob("*.avro"))
    assert files
    for f in files:
        connector, event_type, hour = (
            f.parent.parent.parent.name,
            f.parent.parent.name,
            f.parent.name,
        )
        assert connector.startswith("dataexport.") and ".integration." in connector
        assert event_type.startswith("event_type=") and hour.startswith("date=")
    catalog = by_event_type()
    with gzip.open(tmp_path / "http.ndjson.gz", "rt") as lines:
        expected = {
            e["id"]: to_flat(e, catalog.get(e["event_type"])) if "user" in e else e
            for line in lines
            for e in json.loads(line)["events"]
        }
    got = {}
    for f in files:
        with open(f, "rb") as fh:
            reader = fastavro.reader(fh)
            event_type = reader.writer_schema["name"].removeprefix("dataexport.S3.inner.")
            assert f"event_type={event_type}" == f.parent.parent.name
            for record in reader:
                got[record["id"]] = {
                    "event_type": event_type,
                    **{k: v for k, v in record.items() if v is not None},
                }
    assert got.keys() == expected.keys()
    for event_id, event in expected.items():
        want = {
            k: struct.unpack("<f", struct.pack("<f", v))[0] if isinstance(v, float) else v
            for k, v in event.items()
            if v is not None
        }
        assert got[event_id] == want, event_id
