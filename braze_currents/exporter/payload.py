"""Rows to Braze objects.

Two steps, both pure:

1. ``plan_columns`` decides, from the DuckDB column types, how each value leaves the database:
   the SQL expression that reads it (DuckDB formats timestamps, casts decimals, renders
   lists/structs/maps as JSON text, all vectorised) and the Python conversion left to do.
2. ``ObjectShaper`` turns one converted row into the object of the mode's request array
   (NULLs left out, identifier columns into Braze's identifier fields, the rest into
   properties or attributes).

Anything that makes a row unusable raises ``InvalidRow`` with a reason for the report.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from braze_currents.exporter.modes import Mode, RecordType, subscription_kind

ISO_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%fZ"
ISO_DATE = "%Y-%m-%d"

PRIMARY_IDENTIFIERS = ("external_id", "braze_id", "user_alias")
ALIAS_COLUMNS = ("alias_name", "alias_label")
IDENTIFIER_COLUMNS = ("external_id", "braze_id", "alias_name", "alias_label", "email", "phone")
EVENT_FIELDS = ("app_id", "name", "time")  # in the order they appear in the object
PURCHASE_FIELDS = ("app_id", "product_id", "currency", "price", "quantity", "time")
SUBSCRIPTION_COLUMNS = ("subscription_group_id", "subscription_state", "use_double_opt_in_logic")
SUBSCRIPTION_STATES = ("subscribed", "unsubscribed")
FLAG_UPDATE_EXISTING = "_update_existing_only"
FLAG_MERGE_OBJECTS = "_merge_objects"
SYNTHETIC_PREFIX = "__braze_"


class InvalidRow(Exception):
    """The row cannot become a valid Braze object; the message is the reason."""


OPERATOR_KEYS = frozenset({"inc", "add", "remove"})  # {"inc": n}, {"add": [...]}...
TIME_WRAPPER = "$time"  # a date inside a nested object: {"$time": "..."}
_BAD_NESTED_KEY = re.compile(r"[\s.$]")


def nested_attribute(column: str, value: object) -> object:
    """An attribute value as Braze takes it inside a nested attribute. Braze drops *every*
    nested attribute update of a request when one holds a null or an invalid value, and still
    answers 201, so: a null object key is left out (a NULL STRUCT field, a ``null`` in
    pre-formatted JSON: "not set", the same as the struct-with-dates path always did); a null
    array element, or a key name that is empty or holds a space, ``.`` or ``$``, makes the
    row invalid. Plain values and operators (``{"inc": 1}``) pass unchanged."""
    if isinstance(value, dict):
        if value and set(value) <= OPERATOR_KEYS:
            return value
        return _clean_nested(column, value)
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return _clean_nested(column, value)
    return value


def _clean_nested(column: str, value: object) -> object:
    if isinstance(value, dict):
        if len(value) == 1 and TIME_WRAPPER in value:
            return value
        out = {}
        for key, inner in value.items():
            if not key or _BAD_NESTED_KEY.search(key):
                raise InvalidRow(
                    f"attribute {column!r}: nested key {key!r} is empty or holds a space, "
                    "'.' or '$' (Braze would drop every nested update of the request)"
                )
            if inner is not None:
                out[key] = _clean_nested(column, inner)
        return out
    if isinstance(value, list):
        if any(inner is None for inner in value):
            raise InvalidRow(
                f"attribute {column!r}: a null inside a nested array (Braze would drop every "
                "nested update of the request)"
            )
        return [_clean_nested(column, inner) for inner in value]
    return value


def quote_ident(name: str) -> str:
    """A DuckDB identifier, quoted: never paste a name into SQL any other way."""
    return '"' + name.replace('"', '""') + '"'


# --- columns -------------------------------------------------------------------------------

_TEMPORAL = re.compile(r"\b(TIMESTAMP|DATE|TIME|DATETIME|TIMESTAMPTZ)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ColumnPlan:
    name: str
    duckdb_type: str
    sql: str  # expression over the source relation's column
    convert: str  # "none" | "json" | "nested" | "unsupported"


def _is_nested(t: str) -> bool:
    return t.endswith("]") or t.startswith(("STRUCT", "MAP", "UNION"))


def plan_column(name: str, duckdb_type: str, pre_formatted: bool) -> ColumnPlan:
    t = duckdb_type.upper()
    col = quote_ident(name)
    if pre_formatted or t == "JSON":
        return ColumnPlan(name, duckdb_type, col, "json")
    if _is_nested(t):
        if _TEMPORAL.search(t):  # dates inside: read natively, convert in Python
            return ColumnPlan(name, duckdb_type, col, "nested")
        return ColumnPlan(name, duckdb_type, f"CAST(to_json({col}) AS VARCHAR)", "json")
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return ColumnPlan(
            name, duckdb_type, f"strftime(timezone('UTC', {col}), '{ISO_TIMESTAMP}')", "none"
        )
    if t.startswith("TIMESTAMP") or t == "DATETIME":
        return ColumnPlan(
            name, duckdb_type, f"strftime(CAST({col} AS TIMESTAMP), '{ISO_TIMESTAMP}')", "none"
        )
    if t == "DATE" and name == "time":  # an event's or purchase's time: a date-time in UTC
        return ColumnPlan(
            name, duckdb_type, f"strftime(CAST({col} AS TIMESTAMP), '{ISO_TIMESTAMP}')", "none"
        )
    if t == "DATE":
        return ColumnPlan(name, duckdb_type, f"strftime({col}, '{ISO_DATE}')", "none")
    if t.startswith("DECIMAL") or t.startswith("NUMERIC"):
        return ColumnPlan(name, duckdb_type, f"CAST({col} AS DOUBLE)", "none")
    if t in ("UUID", "TIME", "TIME WITH TIME ZONE", "BIT") or t.startswith("ENUM"):
        return ColumnPlan(name, duckdb_type, f"CAST({col} AS VARCHAR)", "none")
    if t in ("BLOB", "BYTEA", "INTERVAL"):
        return ColumnPlan(name, duckdb_type, col, "unsupported")
    return ColumnPlan(name, duckdb_type, col, "none")


def plan_columns(
    described: Sequence[tuple[str, str]], pre_formatted: Iterable[str] = ()
) -> list[ColumnPlan]:
    pre = set(pre_formatted)
    return [plan_column(name, t, name in pre) for name, t in described]


def _iso(value: object, wrap_time: bool) -> object:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        text = value.strftime(ISO_TIMESTAMP)
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = value.isoformat()  # time
    return {"$time": text} if wrap_time else text


def to_json_value(value: object, wrap_time: bool = False) -> object:
    """A value read natively from DuckDB (lists, dicts, dates, decimals...) as JSON data.
    ``wrap_time``: dates inside nested attribute objects become ``{"$time": ...}``."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): to_json_value(v, wrap_time) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [to_json_value(v, wrap_time) for v in value]
    if isinstance(value, dt.date | dt.time):
        return _iso(value, wrap_time)
    if hasattr(value, "as_integer_ratio"):  # Decimal
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, bytes | bytearray | memoryview):
        raise InvalidRow("binary values cannot be sent to Braze")
    return str(value)  # UUID and the like


def make_row_reader(
    plans: Sequence[ColumnPlan], wrap_nested_time: bool = False
) -> Callable[[Sequence[object]], dict[str, object]]:
    """A function from one fetched tuple to a dict of JSON values, NULLs left out."""
    plain = [(i, p.name) for i, p in enumerate(plans) if p.convert == "none"]
    special = [(i, p.name, p.convert) for i, p in enumerate(plans) if p.convert != "none"]
    loads = json.loads

    def read(values: Sequence[object]) -> dict[str, object]:
        row = {name: values[i] for i, name in plain if values[i] is not None}
        for i, name, how in special:
            value = values[i]
            if value is None:
                continue
            if how == "json":
                if not isinstance(value, str):
                    value = to_json_value(value, wrap_nested_time)
                else:
                    try:
                        value = loads(value)
                    except ValueError:
                        raise InvalidRow(
                            f"column {name!r}: pre-formatted value is not valid JSON"
                        ) from None
                if value is None:
                    continue
            elif how == "nested":
                value = to_json_value(value, wrap_nested_time)
            else:
                raise InvalidRow(
                    f"column {name!r}: values of type {plans[i].duckdb_type} cannot "
                    "be sent to Braze"
                )
            row[name] = value
        return row

    return read


# --- objects ---------------------------------------------------------------------------------


def iso_time(text: str) -> str:
    """A text ``time`` as Braze reads it best: ISO 8601 in UTC with its zone
    (``2024-05-01T10:00:00.000000Z``), from any form ``datetime.fromisoformat`` reads
    (``2024-05-01 10:00:00``, ``20240501T100000Z``, a date alone); a time without a zone is
    taken as UTC, as DuckDB's TIMESTAMP columns are. Text it cannot read comes back unchanged
    for the validation to report."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime(ISO_TIMESTAMP)


def _text_id(row: dict[str, object], column: str) -> str | None:
    value = row.get(column)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidRow(f"{column} must be a string")
    return str(value)


def display_key(row: dict[str, object]) -> str | None:
    """A human key for the report: the row's identifier(s), e.g. ``external_id=u1``."""
    parts = []
    for column in ("external_id", "braze_id", "email", "phone"):
        if row.get(column) is not None:
            parts.append(f"{column}={row[column]}")
    if row.get("alias_name") is not None or row.get("alias_label") is not None:
        parts.append(f"alias={row.get('alias_name')}/{row.get('alias_label')}")
    return ", ".join(parts) or None


@dataclass(frozen=True)
class Shaped:
    kind: str  # the request array the element goes into
    element: object  # the JSON array element: an object, or a bare id for /users/delete
    attributes: tuple[str, ...] = ()  # user_attributes: the attribute keys (billed data points)


class ObjectShaper:
    """Builds the Braze object of one row for one mode. Which column plays which part is decided
    once from the column names; ``shape`` then does the least work per row."""

    def __init__(
        self,
        mode: Mode,
        record_type: RecordType | None,
        columns: Sequence[str],
        array_key: str,
        delete_prioritization: Sequence[str] = (),
    ) -> None:
        self.mode = mode
        self.record_type = record_type
        self.array_key = array_key
        self.prioritization = list(delete_prioritization)
        names = set(columns)
        self.identifier_columns = [c for c in IDENTIFIER_COLUMNS if c in names]
        if mode is Mode.TRACK:
            used: set[str] = set(self.identifier_columns)
            if record_type is RecordType.CUSTOM_EVENTS:
                used |= {*EVENT_FIELDS, FLAG_UPDATE_EXISTING}
            elif record_type is RecordType.PURCHASES:
                used |= {*PURCHASE_FIELDS, FLAG_UPDATE_EXISTING}
            else:
                used |= {FLAG_UPDATE_EXISTING, FLAG_MERGE_OBJECTS}
            self.extra_columns = [c for c in columns if c not in used]
            self.ignored_columns: list[str] = []
        else:
            wanted = {
                Mode.NEW_ALIAS: {"alias_name", "alias_label", "external_id"},
                Mode.IDENTIFY: {"alias_name", "alias_label", "external_id", "email", "phone"},
                Mode.DELETE: set(IDENTIFIER_COLUMNS),
                Mode.SUBSCRIPTION_STATUS: {*SUBSCRIPTION_COLUMNS, "external_id", "email", "phone"},
            }[mode]
            self.extra_columns = []
            self.ignored_columns = [c for c in columns if c not in wanted]
        self._shape = {
            Mode.NEW_ALIAS: self._new_alias,
            Mode.IDENTIFY: self._identify,
            Mode.DELETE: self._delete,
            Mode.SUBSCRIPTION_STATUS: self._subscription,
            Mode.TRACK: {
                RecordType.CUSTOM_EVENTS: self._event,
                RecordType.PURCHASES: self._purchase,
                RecordType.USER_ATTRIBUTES: self._attributes,
                None: self._attributes,
            }[record_type],
        }[mode]

    def shape(self, row: dict[str, object]) -> Shaped:
        return self._shape(row)

    # identifiers -------------------------------------------------------------------------

    def _alias(self, row: dict[str, object]) -> dict[str, str] | None:
        name, label = _text_id(row, "alias_name"), _text_id(row, "alias_label")
        if name is None and label is None:
            return None
        if name is None or label is None:
            raise InvalidRow("alias_name and alias_label must be set together")
        return {"alias_name": name, "alias_label": label}

    def _track_identifiers(self, row: dict[str, object], obj: dict[str, object]) -> None:
        for column in self.identifier_columns:
            if column in ALIAS_COLUMNS:
                continue
            value = _text_id(row, column)
            if value is not None:
                obj[column] = value
        if "alias_name" in row or "alias_label" in row:
            obj["user_alias"] = self._alias(row)

    # track ------------------------------------------------------------------------------------

    def _properties(self, row: dict[str, object]) -> dict[str, object]:
        props: dict[str, object] = {}
        for column in self.extra_columns:
            if column not in row:
                continue
            value = row[column]
            if column == "properties":
                if isinstance(value, str):
                    try:
                        value = json.loads(value)
                    except ValueError:
                        raise InvalidRow("column 'properties' is not a JSON object") from None
                if not isinstance(value, dict):
                    raise InvalidRow("column 'properties' is not a JSON object")
                for key, inner in value.items():
                    if inner is None:
                        continue
                    if key in props or (key in row and key != "properties"):
                        raise InvalidRow(f"property {key!r} is given twice")
                    props[key] = inner
            else:
                if column in props:
                    raise InvalidRow(f"property {column!r} is given twice")
                props[column] = value
        return props

    def _track_common(self, row: dict[str, object], fixed: Sequence[str]) -> dict[str, object]:
        obj: dict[str, object] = {}
        self._track_identifiers(row, obj)
        for column in fixed:
            if column in row:
                obj[column] = row[column]
        if isinstance(obj.get("time"), str):
            obj["time"] = iso_time(obj["time"])  # type: ignore[arg-type]
        if FLAG_UPDATE_EXISTING in row:
            obj[FLAG_UPDATE_EXISTING] = row[FLAG_UPDATE_EXISTING]
        props = self._properties(row)
        if props:
            obj["properties"] = props
        return obj

    def _event(self, row: dict[str, object]) -> Shaped:
        return Shaped("events", self._track_common(row, EVENT_FIELDS))

    def _purchase(self, row: dict[str, object]) -> Shaped:
        obj = self._track_common(row, PURCHASE_FIELDS)
        currency = obj.get("currency")
        if isinstance(currency, str):
            obj["currency"] = currency.strip().upper()
        price = obj.get("price")
        if isinstance(price, str):
            try:
                obj["price"] = float(price)
            except ValueError:
                raise InvalidRow(f"price {price!r} is not a number") from None
        return Shaped("purchases", obj)

    def _attributes(self, row: dict[str, object]) -> Shaped:
        obj: dict[str, object] = {}
        self._track_identifiers(row, obj)
        has_primary = any(k in obj for k in PRIMARY_IDENTIFIERS)
        attributes = []
        for column in self.extra_columns:
            if column in row:
                obj[column] = nested_attribute(column, row[column])
                attributes.append(column)
        if has_primary:  # email and phone are then attributes, not lookup keys
            attributes.extend(c for c in ("email", "phone") if c in obj)
        for flag in (FLAG_UPDATE_EXISTING, FLAG_MERGE_OBJECTS):
            if flag in row:
                obj[flag] = row[flag]
        return Shaped("attributes", obj, tuple(attributes))

    # users endpoints ------------------------------------------------------------------------

    def _new_alias(self, row: dict[str, object]) -> Shaped:
        alias = self._alias(row)
        if alias is None:
            raise InvalidRow("alias_name and alias_label are required")
        obj: dict[str, object] = {}
        external_id = _text_id(row, "external_id")
        if external_id is not None:
            obj["external_id"] = external_id
        obj.update(alias)
        return Shaped(self.array_key, obj)

    def _identify(self, row: dict[str, object]) -> Shaped:
        """``external_id`` and exactly one of an alias (``aliases_to_identify``), ``email``
        (``emails_to_identify``) or ``phone`` (``phone_numbers_to_identify``)."""
        external_id = _text_id(row, "external_id")
        alias = self._alias(row)
        email, phone = _text_id(row, "email"), _text_id(row, "phone")
        found = [x for x in (alias, email, phone) if x is not None]
        if external_id is None or len(found) != 1:
            raise InvalidRow(
                "external_id and exactly one of alias_name + alias_label, email or phone "
                "are required"
            )
        if alias is not None:
            return Shaped(self.array_key, {"external_id": external_id, "user_alias": alias})
        field, kind = (
            ("email", "emails_to_identify") if email else ("phone", "phone_numbers_to_identify")
        )
        element = {
            "external_id": external_id,
            field: found[0],
            "prioritization": self.prioritization,
        }
        return Shaped(kind, element)

    def _subscription(self, row: dict[str, object]) -> Shaped:
        """One group object per row, naming its one user: ``subscription_groups`` entries of
        a request share the identifier kind (``external_ids``, ``emails`` or ``phones``)."""
        group = _text_id(row, "subscription_group_id")
        if group is None:
            raise InvalidRow("subscription_group_id is required")
        state = row.get("subscription_state")
        if state not in SUBSCRIPTION_STATES:
            raise InvalidRow(
                f"subscription_state must be 'subscribed' or 'unsubscribed', got {state!r}"
            )
        found = [
            (kind, value)
            for column, kind in (
                ("external_id", "external_ids"),
                ("email", "emails"),
                ("phone", "phones"),
            )
            if (value := _text_id(row, column)) is not None
        ]
        if len(found) != 1:
            raise InvalidRow("exactly one of external_id, email or phone is required")
        kind, value = found[0]
        element: dict[str, object] = {
            "subscription_group_id": group,
            "subscription_state": state,
            kind: [value],
        }
        if "use_double_opt_in_logic" in row:
            flag = row["use_double_opt_in_logic"]
            if not isinstance(flag, bool):
                raise InvalidRow("use_double_opt_in_logic must be a boolean")
            element["use_double_opt_in_logic"] = flag
        return Shaped(subscription_kind(kind), element)

    def _delete(self, row: dict[str, object]) -> Shaped:
        found: list[tuple[str, object]] = []
        for column, kind in (
            ("external_id", "external_ids"),
            ("braze_id", "braze_ids"),
            ("email", "email_addresses"),
            ("phone", "phone_numbers"),
        ):
            value = _text_id(row, column)
            if value is not None:
                if column in ("email", "phone"):
                    if not self.prioritization:
                        raise InvalidRow(
                            f"deleting by {column} needs --delete-prioritization "
                            "(Braze deletes nobody without it)"
                        )
                    found.append((kind, {column: value, "prioritization": self.prioritization}))
                else:
                    found.append((kind, value))
        alias = self._alias(row)
        if alias is not None:
            found.append(("user_aliases", alias))
        if not found:
            raise InvalidRow("no identifier (external_id, braze_id, alias, email or phone)")
        if len(found) > 1:
            raise InvalidRow(
                "more than one identifier (" + ", ".join(k for k, _ in found) + "): a delete "
                "row must name exactly one"
            )
        kind, value = found[0]
        return Shaped(kind, value)
