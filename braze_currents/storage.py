"""Currents from cloud storage: Avro files and one-row-per-event CSV/TSV exports, as batches.

Braze's storage connectors (Amazon S3, Google Cloud Storage, Azure Blob) write Avro object
container files, one schema per event type, under
``<prefix>/dataexport.<cluster>.<connector>.integration.<id>/event_type=<type>/date=<YYYY-MM-DD-HH>/``.
Their records are flat: the ids (``id``, ``user_id``, ``external_user_id``, ``device_id``,
``timezone``, ``time``) at the top level, the other fields beside them, custom event and purchase
properties as a JSON string in ``properties``. Treasure Data's newer Currents import writes the
same flat events as table rows (CSV/TSV exports: one row per event, a column per field).

This module turns both into batch bodies ``{"events": [...]}`` of flat events, which the loader
then lands exactly like the Custom HTTP connector's batches (same classification, batch ids,
deduplication), so every model downstream reads them unchanged:

- an event is the record as read, every field kept, plus ``event_type`` (from the
  ``event_type=`` segment of its path, else its Avro schema's name);
- one Avro block is one batch (``source_line`` is the block's number in the file), and the
  batch id is the md5 of its events, as for any batch: reloading a file adds nothing;
- ``received_at`` is the hour of the ``date=`` path segment when there is one;
- Avro ``float`` values are float32: kept as read (``3.14`` arrives as ``3.140000104904175``);
- bytes are written as base64 text, decimals and dates as text (JSON has neither).

fastavro reads Avro: it is the maintained, C-accelerated Python implementation of the format
(codecs null and deflate built in; snappy and others need their optional packages).
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import PurePath
from uuid import UUID

# Where a storage connector names the event type and the hour of a file.
_EVENT_TYPE_SEGMENT = re.compile(r"^event_type=(.+)$")
_DATE_SEGMENT = re.compile(r"^date=(\d{4})-(\d{2})-(\d{2})(?:-(\d{2}))?$")
# Braze's storage schemas are named like `dataexport.S3.inner.users.messages.email.Open`.
_SCHEMA_PREFIX = re.compile(r"^dataexport\.[^.]+\.inner\.")
# Rows of a per-event export are grouped in batches of this many.
CSV_BATCH_ROWS = 1000


class StorageError(Exception):
    """A storage file that cannot be read at all."""


def event_type_from_path(path: PurePath) -> str | None:
    """The ``event_type=<type>`` segment of a storage path (the innermost), else None."""
    for part in reversed(path.parts):
        m = _EVENT_TYPE_SEGMENT.match(part)
        if m:
            return m.group(1)
    return None


_EVENT_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")


def event_type_from_file_name(path: PurePath) -> str | None:
    """The event type a per-type export's file name gives (``users.messages.email.Open.csv``,
    optionally ``.gz``), else None."""
    name = path.name
    for suffix in (".gz", ".csv", ".tsv"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name if _EVENT_TYPE_NAME.match(name) else None


def event_type_from_schema(name: str | None) -> str | None:
    """The event type an Avro schema's full name gives (``dataexport.S3.inner.`` dropped);
    None when the name holds no dotted type."""
    if not name:
        return None
    event_type = _SCHEMA_PREFIX.sub("", name)
    return event_type if "." in event_type else None


def hour_from_path(path: PurePath) -> int | None:
    """Unix seconds of the ``date=YYYY-MM-DD-HH`` segment of a storage path, else None."""
    for part in reversed(path.parts):
        m = _DATE_SEGMENT.match(part)
        if m:
            y, mo, d, h = (int(g) if g else 0 for g in m.groups())
            try:
                return int(datetime(y, mo, d, h, tzinfo=UTC).timestamp())
            except ValueError:
                return None
    return None


# ---- JSON of records -------------------------------------------------------------------------
def _json_default(value):
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def _finite(value):
    """``value`` with every NaN or infinity as its text (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def body_json(events: list[dict]) -> str:
    """The batch body of ``events`` as JSON text."""
    body = {"events": events}
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False, default=_json_default)
    except ValueError:  # a NaN or infinity
        return json.dumps(_finite(body), ensure_ascii=False, default=_json_default)


def flat_event(record: dict, event_type: str | None) -> dict:
    """A storage record as a flat event: ``event_type`` first, then every field as read (a
    record's own ``event_type`` field, if it has one, wins)."""
    if event_type is None:
        return dict(record)
    return {"event_type": event_type, **record}


# ---- Avro ------------------------------------------------------------------------------------
def avro_bodies(stream, path: PurePath) -> Iterator[tuple[int, str]]:
    """(block number from 1, batch body) for every block of an Avro object container file.

    Raises ``StorageError`` when the file is not Avro or names no event type; a block that
    cannot be read raises ``AvroBlockError`` after the blocks before it were yielded."""
    import fastavro  # imported here: only storage inputs need it

    try:
        blocks = fastavro.block_reader(stream)
    except Exception as exc:  # fastavro raises ValueError, EOFError, ... on a bad header
        raise StorageError(f"{path}: not an Avro object container file ({exc})") from exc
    schema = blocks.writer_schema
    name = schema.get("name") if isinstance(schema, dict) else None
    event_type = event_type_from_path(path) or event_type_from_schema(name)
    if event_type is None:
        raise StorageError(
            f"{path}: cannot tell the event type: no event_type=<type> folder in its path, "
            f"and its Avro schema is named {name!r}"
        )
    n = 0
    end = None
    iterator = iter(blocks)
    while True:
        try:
            block = next(iterator)
            events = [flat_event(r, event_type) for r in block]
        except StopIteration:
            return
        except Exception as exc:
            raise AvroBlockError(n + 1, end, exc) from exc
        n += 1
        end = block.offset + block.size
        yield n, body_json(events)


class AvroBlockError(Exception):
    """A block of an Avro file could not be read (the file ends early, or is corrupt)."""

    def __init__(self, block: int, offset: int | None, cause: Exception):
        super().__init__(f"Avro block {block} cannot be read ({type(cause).__name__}: {cause})")
        self.block = block
        self.offset = offset  # where the unreadable part starts (None: right after the header)


# ---- one-row-per-event exports ----------------------------------------------------------------
def is_event_export(columns: Iterable[str]) -> bool:
    """Whether CSV columns are those of a one-row-per-event export (an ``id`` column)."""
    return "id" in {c.strip().lower() for c in columns}


def cell_value(text: str):
    """A cell of a per-event export as its JSON value: an empty cell is a missing field; text
    holding a JSON array or object is that structure (list fields such as ``media_urls``);
    anything else stays text (the typed models convert numbers and booleans)."""
    if text == "":
        return None
    if text[0] in "[{" and text[-1] in "]}":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def row_event(columns: list[str], row: list[str], event_type: str | None) -> dict:
    """One row of a per-event export as a flat event. ``properties`` (JSON text in Braze's
    storage layout) stays text, as in Avro records."""
    event = {}
    if event_type is not None:
        event["event_type"] = event_type
    for name, text in zip(columns, row, strict=True):
        value = cell_value(text) if name != "properties" else (text or None)
        if value is not None:
            event[name] = value
    return event
