"""The project's Currents catalogue, as the typed staging models' yml declares it.

`models/staging/braze_currents/event_types/_event_types__models.yml` is the single source: one
model per event type (``config.meta.currents_event_type``) and one column per field. dbt builds
the typed models from it; this module reads the same file for the data generator and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from braze_currents.config import PROJECT_ROOT

STAGING_DIR = PROJECT_ROOT / "models" / "staging" / "braze_currents"
CATALOG_PATH = STAGING_DIR / "event_types" / "_event_types__models.yml"

# Columns every event has, taken from the event envelope rather than from `properties`.
ENVELOPE_COLUMNS = (
    "event_id",
    "event_type",
    "event_at",
    "external_user_id",
    "braze_id",
    "device_id",
    "timezone",
    "properties",
    "batch_id",
    "loaded_at",
)


@dataclass(frozen=True)
class Field:
    name: str  # column name in the typed model
    data_type: str  # varchar, bigint, double, boolean, json
    json_key: str  # key inside the event's `properties`
    # The top-level key that holds this field in the flat (storage) envelope when it is not
    # `json_key`: custom events and purchases carry their custom properties as `properties`,
    # a JSON text (``meta.storage_key`` in the yml).
    storage_key: str | None = None


@dataclass(frozen=True)
class EventType:
    event_type: str
    model: str
    envelope: tuple[str, ...]  # envelope columns the event type carries
    fields: tuple[Field, ...]  # properties fields, in catalogue order
    flat: bool = False  # storage-format shape: fields at the top level, no user/properties
    retired: bool = False  # Braze no longer sends it; older exports hold it

    @property
    def source_fields(self) -> tuple[Field, ...]:
        """Fields that are keys of their own in the payload (typed companions left out)."""
        seen: set[str] = set()
        out = []
        for f in self.fields:
            if f.json_key not in seen:
                seen.add(f.json_key)
                out.append(f)
        return tuple(out)


def parse_catalog(document: dict) -> tuple[EventType, ...]:
    """Event types of a parsed models yml; models without ``currents_event_type`` are skipped."""
    out = []
    for model in document.get("models", []):
        meta = (model.get("config") or {}).get("meta") or {}
        event_type = meta.get("currents_event_type")
        if not event_type:
            continue
        envelope, fields = [], []
        for column in model.get("columns", []):
            name = column["name"]
            column_meta = column.get("meta") or {}
            # A column the stream gives a type whose payload lacks the key (app_group_id):
            # neither a properties field nor generated.
            if name in ENVELOPE_COLUMNS or column_meta.get("from_stream"):
                envelope.append(name)
                continue
            key = column_meta.get("json_key", name)
            fields.append(
                Field(
                    name=name,
                    data_type=column["data_type"],
                    json_key=key,
                    storage_key=column_meta.get("storage_key"),
                )
            )
        flat = meta.get("currents_layout") == "flat"
        retired = bool(meta.get("currents_retired"))
        out.append(
            EventType(event_type, model["name"], tuple(envelope), tuple(fields), flat, retired)
        )
    return tuple(out)


@cache
def load_catalog(path: Path = CATALOG_PATH) -> tuple[EventType, ...]:
    with open(path, encoding="utf-8") as handle:
        return parse_catalog(yaml.safe_load(handle))


def by_event_type(path: Path = CATALOG_PATH) -> dict[str, EventType]:
    return {e.event_type: e for e in load_catalog(path)}
