"""Write flat Currents events as Braze's storage connectors do: a tree of Avro files (one
schema per event type, one folder per event type and hour), or one-row-per-event CSV/TSV.

For tests, the demo and the benchmark: the project makes its own storage fixtures. Each event
type's Avro schema is built from the values its events hold, as Braze's are from its fields:
``id`` a string, ``time`` a long, every other field optional; numbers with a fraction are Avro
``float`` (float32), as in Braze's schemas, so they read back as float32 values (``3.14`` as
``3.140000104904175``); lists are arrays of optional strings; a field whose values have several
types is a union of them. fastavro writes the files (see ``braze_currents.storage``).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

# The prefix Braze writes under the bucket's own prefix.
DEFAULT_CONNECTOR_DIR = "dataexport.prod-01.S3.integration.5e3c2b1a9f8d7c6b5a4e3d2c"
_REQUIRED = {"id": "string", "time": "long"}
_ENVELOPE_ORDER = ("id", "user_id", "external_user_id", "device_id", "timezone", "time")


def _avro_type(value) -> str | dict:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "float"
    if isinstance(value, list):
        return {"type": "array", "items": ["null", "string"]}
    return "string"  # text, and objects as JSON text


def avro_schema(event_type: str, events: list[dict]) -> dict:
    """The Avro record schema of ``events`` (all of ``event_type``; ``event_type`` itself is
    not a field: the schema's name and the folder say it)."""
    keys: dict[str, list] = {}
    for key in _ENVELOPE_ORDER:
        if any(key in e for e in events):
            keys[key] = []
    for e in events:
        for key, value in e.items():
            if key == "event_type":
                continue
            types = keys.setdefault(key, [])
            if value is None:
                continue
            t = _avro_type(value)
            if t not in types:
                types.append(t)
    if "long" in (t for types in keys.values() for t in types):
        # An int among floats is written as a float: one numeric branch per field.
        for types in keys.values():
            if "long" in types and "float" in types:
                types.remove("long")
    fields = []
    for key, types in keys.items():
        required = _REQUIRED.get(key)
        if (
            required
            and all(key in e and e[key] is not None for e in events)
            and (types in ([required], []))
        ):
            fields.append({"name": key, "type": required})
        else:
            fields.append({"name": key, "type": ["null", *types], "default": None})
    return {
        "type": "record",
        "name": f"dataexport.S3.inner.{event_type}",
        "doc": f"Currents {event_type} (generated)",
        "fields": fields,
    }


def _record(event: dict, schema: dict) -> dict:
    out = {}
    for field in schema["fields"]:
        value = event.get(field["name"])
        if isinstance(value, dict):
            value = json.dumps(value, separators=(",", ":"))
        elif isinstance(value, list):
            value = [v if v is None or isinstance(v, str) else json.dumps(v) for v in value]
        elif isinstance(value, int) and not isinstance(value, bool):
            types = field["type"] if isinstance(field["type"], list) else [field["type"]]
            if "float" in types and "long" not in types:
                value = float(value)
        out[field["name"]] = value
    return out


def _hour(event: dict) -> str:
    t = event.get("time")
    seconds = t if isinstance(t, int | float) and not isinstance(t, bool) else 0
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d-%H")


def write_avro_tree(
    events: Iterable[dict],
    root: Path,
    connector_dir: str = DEFAULT_CONNECTOR_DIR,
    codec: str = "null",
    sync_interval: int = 16_000,
) -> list[Path]:
    """Write flat events as ``root/<connector_dir>/event_type=<type>/date=<hour>/0.avro``
    (events in their order; a type's schema covers all its events). Returns the files."""
    import fastavro

    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    by_type: dict[str, list[dict]] = defaultdict(list)
    for e in events:
        event_type = e.get("event_type")
        if not isinstance(event_type, str) or not event_type:
            raise ValueError(f"a storage record needs its event type: {e!r}")
        grouped[(event_type, _hour(e))].append(e)
        by_type[event_type].append(e)
    schemas = {t: fastavro.parse_schema(avro_schema(t, es)) for t, es in by_type.items()}
    written = []
    for (event_type, hour), es in sorted(grouped.items()):
        folder = root / connector_dir / f"event_type={event_type}" / f"date={hour}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "0.avro"
        schema = schemas[event_type]
        with open(path, "wb") as out:
            fastavro.writer(
                out,
                schema,
                (_record(e, schema) for e in es),
                codec=codec,
                sync_interval=sync_interval,
                sync_marker=b"currents-sync-16",  # the same events give the same bytes
            )
        written.append(path)
    return written


def storage_events(records: Iterable) -> Iterator[dict]:
    """The events of generated records (``braze_currents.devtools.generator.Record``) that a storage
    connector could hold: those of usable batch bodies (a broken record has no events to
    store; the generator sends its events again later)."""
    for record in records:
        events = (record.body or {}).get("events") if record.broken_text is None else None
        if isinstance(events, list):
            yield from (e for e in events if isinstance(e, dict))


def write_records_avro(records: Iterable, root: Path, **options) -> tuple[list[Path], int]:
    """Write the events of generated records (flat envelope) as a storage tree under ``root``;
    returns the files and the number of events left out because they have no event type (a
    storage file is per type). Holds the events in memory: for fixtures and demos."""
    kept, left_out = [], 0
    for e in storage_events(records):
        if isinstance(e.get("event_type"), str) and e["event_type"]:
            kept.append(e)
        else:
            left_out += 1
    return write_avro_tree(kept, root, **options), left_out


def write_event_rows(events: list[dict], path: Path, delimiter: str = ",") -> Path:
    """Write flat events as a one-row-per-event export (an ``event_type`` column, one column per
    field; lists as JSON text, missing fields as empty cells)."""
    columns: dict[str, None] = {"event_type": None}
    for e in events:
        columns.update(dict.fromkeys(e))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out, delimiter=delimiter)
        w.writerow(columns)
        for e in events:
            w.writerow([_cell(e.get(c)) for c in columns])
    return path


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
