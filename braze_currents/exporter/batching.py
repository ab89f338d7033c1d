"""Items (one prepared row each) into request bodies sized to Braze's limits. Pure."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import NamedTuple


class Item(NamedTuple):
    """One valid row, ready to send."""

    row: int  # position of the row in the model's stream, 1-based
    row_hash: str  # ledger identity of the row ...
    occurrence: int  # ... and which copy of identical rows it is
    kind: str  # request array the element goes into
    body: bytes  # the element as JSON
    user_key: str | None  # user_attributes: the user, for the attribute ledger
    state: str | None  # user_attributes: attribute values to record once acknowledged
    data_points: int  # billed data points the element carries


def item_key(item: Item) -> str:
    """The human key of an item for the report (its identifier), read back from its JSON; only
    rows that were not delivered need it, so it is not kept for every row."""
    try:
        element = json.loads(item.body)
    except ValueError:
        return f"row {item.row}"
    if not isinstance(element, dict):  # a /users/delete id
        return f"{item.kind[:-1]}={element}"
    parts = [
        f"{k}={element[k]}" for k in ("external_id", "braze_id", "email", "phone") if k in element
    ]
    alias = element.get("user_alias")
    if isinstance(alias, dict):
        parts.append(f"alias={alias.get('alias_name')}/{alias.get('alias_label')}")
    elif "alias_name" in element:
        parts.append(f"alias={element.get('alias_name')}/{element.get('alias_label')}")
    return ", ".join(parts) or f"row {item.row}"


def envelope(kind: str, bodies: Iterable[bytes]) -> bytes:
    """The request body ``{"<kind>":[...]}`` around elements that are already JSON."""
    return b'{"' + kind.encode() + b'":[' + b",".join(bodies) + b"]}"


def envelope_size(kind: str, sizes: int, count: int) -> int:
    """Bytes of ``{"<kind>":[...]}`` around ``count`` elements of ``sizes`` bytes in all."""
    return len(kind) + 7 + sizes + max(0, count - 1)


class Batch(NamedTuple):
    kind: str
    items: list[Item]

    def body(self) -> bytes:
        return envelope(self.kind, (item.body for item in self.items))

    def halves(self) -> tuple[Batch, Batch]:
        middle = len(self.items) // 2
        return Batch(self.kind, self.items[:middle]), Batch(self.kind, self.items[middle:])


def max_element_bytes(kind: str, max_request_bytes: int) -> int:
    """The largest element that fits in a request alone."""
    return max_request_bytes - envelope_size(kind, 0, 1)


class Batcher:
    """Fills one batch per request array (``/users/delete`` takes one identifier kind per
    request), closing a batch at ``max_objects`` elements or before ``max_bytes`` of body."""

    def __init__(self, max_objects: int, max_bytes: int) -> None:
        if max_objects < 1:
            raise ValueError("max_objects must be at least 1")
        self.max_objects = max_objects
        self.max_bytes = max_bytes
        self._items: dict[str, list[Item]] = {}
        self._sizes: dict[str, int] = {}

    def add(self, item: Item) -> list[Batch]:
        """Adds an item; returns the batches it closed (usually none, at most two)."""
        kind = item.kind
        items = self._items.get(kind)
        if items is None:
            items = self._items[kind] = []
            self._sizes[kind] = envelope_size(kind, 0, 0)
        size = self._sizes[kind] + len(item.body) + 1  # the element and its comma
        closed = []
        if items and size > self.max_bytes:
            closed.append(Batch(kind, items))
            items = self._items[kind] = []
            size = envelope_size(kind, 0, 0) + len(item.body) + 1
        items.append(item)
        self._sizes[kind] = size
        if len(items) >= self.max_objects:
            closed.append(Batch(kind, items))
            self._items[kind] = []
            self._sizes[kind] = envelope_size(kind, 0, 0)
        return closed

    def flush(self) -> list[Batch]:
        out = [Batch(kind, items) for kind, items in self._items.items() if items]
        self._items, self._sizes = {}, {}
        return out


def batches(items: Iterable[Item], max_objects: int, max_bytes: int) -> Iterator[Batch]:
    """All batches of ``items``, in order of closing."""
    batcher = Batcher(max_objects, max_bytes)
    for item in items:
        yield from batcher.add(item)
    yield from batcher.flush()
