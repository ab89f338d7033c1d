"""A SQL predicate that is true only for rows the Python validation would certainly accept.

The validation pass that must finish before the first request asks DuckDB, vectorised, for
the rows this predicate does not certify, and runs the full Python validation
(``validation.py``, the only judge) on those alone. For a mart of plain typed columns that is
usually no row at all, so the pass costs one scan instead of a Python loop over every row.

The predicate only ever accepts: a value it cannot judge (JSON, nested, pre-formatted,
strings where a time is expected...) makes the row go to Python. So a mistake here can only
cost speed if it is too strict; tests check it is never looser than Python.

For certified rows of the high-volume modes (events, purchases, aliases, identifies) DuckDB
also renders the element's JSON (``element_sql``), from the same column expressions the
Python path reads; tests check both paths give the same objects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from braze_currents.exporter.modes import Mode, RecordType
from braze_currents.exporter.payload import (
    EVENT_FIELDS,
    FLAG_MERGE_OBJECTS,
    FLAG_UPDATE_EXISTING,
    PURCHASE_FIELDS,
    ColumnPlan,
    ObjectShaper,
    quote_ident,
)
from braze_currents.exporter.validation import (
    ISO_4217,
    MAX_EXTERNAL_ID_BYTES,
    MAX_KEY_CHARS,
    MAX_STRING_CHARS,
    check_key,
)

_INT = re.compile(r"(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|INT[1248]|LONG|SHORT)")
WORST_BYTES_PER_VALUE = MAX_STRING_CHARS * 6 + MAX_KEY_CHARS + 8  # escapes, the key, quotes


def type_class(duckdb_type: str, pre_formatted: bool) -> str:
    t = duckdb_type.upper()
    if pre_formatted:
        return "other"
    if t == "VARCHAR" or t.startswith("VARCHAR("):
        return "text"
    if _INT.fullmatch(t):
        return "int"
    if t in ("FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8"):
        return "float"
    if t.startswith(("DECIMAL", "NUMERIC")):
        return "decimal"
    if t == "BOOLEAN":
        return "bool"
    if t == "DATE" or t.startswith("TIMESTAMP") or t == "DATETIME":
        return "temporal"
    return "other"


class Certifier:
    def __init__(
        self,
        shaper: ObjectShaper,
        columns: Sequence[tuple[str, str]],
        pre_formatted: frozenset[str],
        prioritization: Sequence[str],
        max_element_bytes: int,
    ) -> None:
        self.shaper = shaper
        self.types = {name: type_class(t, name in pre_formatted) for name, t in columns}
        self.prioritization = tuple(prioritization)
        self.max_element_bytes = max_element_bytes

    # building blocks (each: SQL that is TRUE when certainly fine) ------------------------------

    def _col(self, name: str) -> str:
        return quote_ident(name)

    def _null(self, name: str) -> str:
        return f"{self._col(name)} IS NULL" if name in self.types else "TRUE"

    def _present(self, name: str) -> str:
        return f"CAST({self._col(name)} IS NOT NULL AS INTEGER)" if name in self.types else "0"

    def _id_value(self, name: str) -> str:
        """A non-null identifier value Python accepts: a non-empty string or an integer."""
        kind, col = self.types.get(name), self._col(name)
        if kind == "int":
            return "TRUE"
        if kind != "text":
            return "FALSE"
        if name == "external_id":
            return f"(length({col}) >= 1 AND strlen({col}) <= {MAX_EXTERNAL_ID_BYTES})"
        return f"(length({col}) BETWEEN 1 AND {MAX_STRING_CHARS})"

    def _id_fine(self, name: str) -> str:
        if name not in self.types:
            return "TRUE"
        return f"({self._null(name)} OR {self._id_value(name)})"

    def _plain_value(self, name: str) -> str:
        """A non-null property or attribute value that is certainly fine."""
        kind, col = self.types[name], self._col(name)
        if kind == "text":
            return f"length({col}) <= {MAX_STRING_CHARS}"
        if kind == "float":
            return f"NOT (isnan({col}) OR isinf({col}))"
        if kind in ("int", "decimal", "bool", "temporal"):
            return "TRUE"
        return "FALSE"

    def _extra(self, name: str) -> str:
        if name == "properties" and self.shaper.record_type is not RecordType.USER_ATTRIBUTES:
            return self._null(name)
        if name in (FLAG_UPDATE_EXISTING, FLAG_MERGE_OBJECTS):
            return "TRUE" if self.types[name] == "bool" else self._null(name)
        if check_key(name, "column") is not None:
            return self._null(name)
        return f"({self._null(name)} OR {self._plain_value(name)})"

    def _required(self, name: str, condition: str) -> str:
        return f"({self._col(name)} IS NOT NULL AND {condition})" if name in self.types else "FALSE"

    def _time(self) -> str:
        if self.types.get("time") != "temporal":
            return "FALSE"  # text times: Python's ISO-8601 parser decides
        col = self._col("time")
        return f"({col} IS NOT NULL AND isfinite({col}) AND year({col}) BETWEEN 1 AND 9999)"

    def _alias_pairs(self) -> str:
        return f"(({self._null('alias_name')}) = ({self._null('alias_label')}))"

    def _alias_any(self) -> str:
        if "alias_name" not in self.types and "alias_label" not in self.types:
            return "0"
        return f"CAST(NOT ({self._null('alias_name')} AND {self._null('alias_label')}) AS INTEGER)"

    def _identifiers(self, lookups_count: bool) -> list[str]:
        parts = [self._alias_pairs()]
        parts += [
            self._id_fine(c) for c in ("external_id", "braze_id", "alias_name", "alias_label")
        ]
        primaries = (
            f"({self._present('external_id')} + {self._present('braze_id')} + {self._alias_any()})"
        )
        lookups = f"({self._present('email')} + {self._present('phone')})"
        if lookups_count:
            parts += [self._id_fine("email"), self._id_fine("phone")]
            both = (
                ""
                if self.shaper.mode is Mode.DELETE
                else f" OR ({primaries} = 0 AND {lookups} = 2)"
            )
            parts.append(f"(({primaries} + {lookups}) = 1{both})")
        else:
            # email/phone: an attribute next to a primary identifier, else the lookup key
            for c in ("email", "phone"):
                if c in self.types:
                    parts.append(f"({self._null(c)} OR {self._id_value(c)})")
            parts.append(f"({primaries} = 1 OR ({primaries} = 0 AND {lookups} = 1))")
        return parts

    # the predicate ------------------------------------------------------------------------------

    def predicate(self) -> str:
        """SQL over the model's columns; FALSE when nothing can be certified."""
        mode, record_type, shaper = self.shaper.mode, self.shaper.record_type, self.shaper
        if len(self.types) * WORST_BYTES_PER_VALUE > self.max_element_bytes:
            return "FALSE"
        parts: list[str]
        if mode is Mode.SUBSCRIPTION_STATUS:
            return "FALSE"  # few rows, one object each: Python judges them all
        if mode is Mode.NEW_ALIAS:
            parts = [
                self._required("alias_name", self._id_value("alias_name")),
                self._required("alias_label", self._id_value("alias_label")),
                self._id_fine("external_id"),
            ]
        elif mode is Mode.IDENTIFY:
            parts = [
                self._required(c, self._id_value(c))
                for c in ("external_id", "alias_name", "alias_label")
            ]
            parts += [self._null("email"), self._null("phone")]  # alias rows only
        elif mode is Mode.DELETE:
            parts = self._identifiers(lookups_count=True)
            if not self.prioritization:
                parts += [self._null("email"), self._null("phone")]
        else:
            lookups_count = record_type is not RecordType.USER_ATTRIBUTES
            parts = self._identifiers(lookups_count)
            parts += [self._extra(c) for c in shaper.extra_columns]
            if record_type is RecordType.CUSTOM_EVENTS:
                parts += [self._event_fields(), self._time(), self._app_id()]
            elif record_type is RecordType.PURCHASES:
                parts += [self._purchase_fields(), self._time(), self._app_id()]
            if FLAG_UPDATE_EXISTING in self.types:
                parts.append(self._extra(FLAG_UPDATE_EXISTING))
            if FLAG_MERGE_OBJECTS in self.types and record_type is RecordType.USER_ATTRIBUTES:
                parts.append(self._extra(FLAG_MERGE_OBJECTS))
        return "(" + " AND ".join(parts) + ")"

    def _app_id(self) -> str:
        if "app_id" not in self.types:
            return "TRUE"
        return "TRUE" if self.types["app_id"] == "text" else self._null("app_id")

    def _event_fields(self) -> str:
        if self.types.get("name") != "text":
            return "FALSE"
        name = self._col("name")
        return (
            f"({name} IS NOT NULL AND length({name}) BETWEEN 1 AND {MAX_KEY_CHARS} "
            f"AND NOT starts_with({name}, '$'))"
        )

    def _purchase_fields(self) -> str:
        t = self.types
        if t.get("product_id") != "text" or t.get("currency") != "text":
            return "FALSE"
        codes = ", ".join(f"'{c}'" for c in sorted(ISO_4217))
        product, currency, qty = (
            self._col("product_id"),
            self._col("currency"),
            self._col("quantity"),
        )
        price = (
            "FALSE"
            if t.get("price") not in ("int", "decimal", "float")
            else f"({self._col('price')} IS NOT NULL AND {self._plain_value('price')})"
        )
        if "quantity" not in t:
            quantity = "TRUE"
        elif t["quantity"] == "int":
            quantity = f"({qty} IS NULL OR {qty} BETWEEN 1 AND 100)"
        else:
            quantity = self._null("quantity")
        return (
            f"({product} IS NOT NULL AND length({product}) BETWEEN 1 AND {MAX_KEY_CHARS} "
            f"AND {currency} IN ({codes}) AND {price} AND {quantity})"
        )


class ElementRenderer:
    """SQL that renders the JSON element of a certified row, as the Python shaper would."""

    FIXED: ClassVar[dict[RecordType, tuple[str, ...]]] = {
        RecordType.CUSTOM_EVENTS: EVENT_FIELDS,
        RecordType.PURCHASES: PURCHASE_FIELDS,
    }

    def __init__(self, shaper: ObjectShaper, plans: Sequence[ColumnPlan], types: dict[str, str]):
        self.shaper = shaper
        self.sql = {p.name: p.sql for p in plans}
        self.types = types

    def _id(self, name: str) -> str:
        col = quote_ident(name)
        return f"CAST({col} AS VARCHAR)" if self.types.get(name) == "int" else col

    def _field(self, key: str, expr: str) -> str:
        return f"{quote_ident(key)} := {expr}"

    def _alias(self) -> str:
        pack = ", ".join(self._field(c, self._id(c)) for c in ("alias_name", "alias_label"))
        return (
            f"CASE WHEN {quote_ident('alias_name')} IS NULL THEN NULL ELSE struct_pack({pack}) END"
        )

    def element_sql(self) -> str | None:
        shaper, fields = self.shaper, []
        has_alias = "alias_name" in self.sql and "alias_label" in self.sql
        if shaper.mode is Mode.NEW_ALIAS:
            fields = [
                self._field(c, self._id(c))
                for c in ("external_id", "alias_name", "alias_label")
                if c in self.sql
            ]
        elif shaper.mode is Mode.IDENTIFY:
            if not has_alias:
                return None  # email and phone rows: Python
            fields = [
                self._field("external_id", self._id("external_id")),
                f"user_alias := {self._alias()}",
            ]
        elif shaper.mode is Mode.TRACK and shaper.record_type in self.FIXED:
            if ("alias_name" in self.sql) != ("alias_label" in self.sql):
                return None
            fields = [
                self._field(c, self._id(c))
                for c in ("external_id", "braze_id", "email", "phone")
                if c in self.sql
            ]
            if has_alias:
                fields.append(f"user_alias := {self._alias()}")
            fixed = self.FIXED[shaper.record_type]  # type: ignore[index]
            fields += [self._field(c, self.sql[c]) for c in fixed if c in self.sql]
            if FLAG_UPDATE_EXISTING in self.sql:
                fields.append(self._field(FLAG_UPDATE_EXISTING, self.sql[FLAG_UPDATE_EXISTING]))
            extras = [c for c in shaper.extra_columns if c != "properties"]
            if extras:
                pack = ", ".join(self._field(c, self.sql[c]) for c in extras)
                all_null = " AND ".join(f"{quote_ident(c)} IS NULL" for c in extras)
                fields.append(
                    f"properties := CASE WHEN {all_null} THEN NULL ELSE struct_pack({pack}) END"
                )
        else:
            return None  # attributes (the ledger keeps their values) and deletes: Python
        return f"CAST(json_strip_nulls(to_json(struct_pack({', '.join(fields)}))) AS VARCHAR)"
