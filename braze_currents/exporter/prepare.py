"""One fetched row to one ready-to-send item: convert, shape, validate, apply the delta,
serialise. Pure apart from the objects it is given."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]

from braze_currents.exporter.batching import Item, max_element_bytes
from braze_currents.exporter.payload import (
    ColumnPlan,
    InvalidRow,
    ObjectShaper,
    display_key,
    make_row_reader,
)


def _not_json(value: object) -> object:
    raise TypeError(f"a value of type {type(value).__name__} is not JSON")


def _make_dumps() -> Callable[[object], str]:
    """Compact JSON, NaN refused. The C encoder is built once (``json.dumps`` builds one per
    call, a third of its cost on small objects)."""
    if c_make_encoder is None:  # pragma: no cover (CPython always has it)
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    encoder = c_make_encoder(
        None, _not_json, encode_basestring, None, ":", ",", False, False, False
    )
    join = "".join
    return lambda value: join(encoder(value, 0))


_dumps = _make_dumps()


@dataclass(frozen=True)
class Invalid:
    row: int
    key: str
    reason: str


@dataclass(frozen=True)
class Unchanged:
    """A ``--delta`` row whose attributes all hold the values Braze acknowledged last time."""

    row: int
    saved: int  # attribute values (data points) not sent


def same(a: object, b: object) -> bool:
    """JSON equality that tells 1, 1.0 and true apart."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)  # type: ignore[union-attr,index]
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))  # type: ignore[arg-type]
    return a == b


class Preparer:
    """Turns the stream query's tuples (the planned columns, then row hash, occurrence, user key,
    previous attribute state, the row's position, the certified flag and the element DuckDB
    rendered) into ``Item``, ``Invalid`` or ``Unchanged``."""

    def __init__(
        self,
        plans: Sequence[ColumnPlan],
        shaper: ObjectShaper,
        check: Callable[[str, object], str | None],
        max_request_bytes: int,
        track_state: bool,
        delta: bool,
    ) -> None:
        self._read = make_row_reader(plans, wrap_nested_time=track_state)
        self._n = len(plans)
        self._shape = shaper.shape
        self._kind = shaper.array_key
        self._check = check
        self._max_request_bytes = max_request_bytes
        self._max_element: dict[str, int] = {}
        self._track_state = track_state
        self._delta = delta
        self.saved_in_sent_rows = 0  # --delta: unchanged attributes left out of changed rows
        self._args = (plans, shaper, check, max_request_bytes, track_state, delta)

    def copy(self) -> Preparer:
        """A fresh preparer with the same settings (its own counters)."""
        return Preparer(*self._args)

    def prepare(self, values: Sequence[object]) -> Item | Invalid | Unchanged:
        n = self._n
        row_hash, occurrence, user_key, prev_state, row, certified, rendered = values[n : n + 7]
        if rendered is not None:  # certified, and DuckDB rendered the element (certify.py)
            return Item(row, row_hash, occurrence, self._kind, rendered.encode(), None, None, 1)  # type: ignore[union-attr,arg-type]
        data: dict[str, object] = {}
        try:
            data = self._read(values)
            shaped = self._shape(data)
            if not certified:  # rows DuckDB vouched for (certify.py) need no second opinion
                reason = self._check(shaped.kind, shaped.element)
                if reason:
                    raise InvalidRow(reason)
        except InvalidRow as exc:
            return Invalid(row, display_key(data) or f"row {row}", str(exc))

        element = shaped.element
        data_points = 1  # an event, a purchase, an alias, an identify, a delete
        state = None
        if self._track_state and isinstance(element, dict):
            attributes = shaped.attributes
            prev = json.loads(prev_state) if prev_state else {}  # type: ignore[arg-type]
            if self._delta and prev:
                missing = object()
                changed = [a for a in attributes if not same(prev.get(a, missing), element[a])]
                if not changed:
                    return Unchanged(row, len(attributes))
                if len(changed) < len(attributes):
                    self.saved_in_sent_rows += len(attributes) - len(changed)
                    element = dict(element)
                    for a in attributes:
                        if a not in changed:
                            del element[a]
                attributes = tuple(changed)
            prev.update((a, element[a]) for a in attributes)
            state = _dumps(prev)
            data_points = len(attributes)

        try:
            body = _dumps(element).encode()
        except (ValueError, TypeError) as exc:
            reason = "a value is NaN or infinite" if isinstance(exc, ValueError) else str(exc)
            return Invalid(row, display_key(data) or f"row {row}", reason)
        kind = shaped.kind
        limit = self._max_element.get(kind)
        if limit is None:
            limit = self._max_element[kind] = max_element_bytes(kind, self._max_request_bytes)
        if len(body) > limit:
            return Invalid(
                row,
                display_key(data) or f"row {row}",
                f"object is {len(body)} bytes, more than one request carries",
            )
        return Item(
            row,
            str(row_hash),
            int(occurrence),  # type: ignore[call-overload]
            kind,
            body,
            user_key if state is not None else None,  # type: ignore[arg-type]
            state,
            data_points,
        )
