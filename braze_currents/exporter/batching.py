"""Items (one prepared row each) into request bodies sized to Braze's limits. Pure.

Rows whose JSON DuckDB rendered (``source.rendered_query``) arrive as tuples of position,
element and ledger journal line; ``rendered_batches`` cuts them into the same batches a
``Batcher`` would, without a Python step per row (a run of 75 events is one slice and one
``join``), and makes their ``Item``s only if a batch needs them one by one (a row Braze
rejected, a split, a failure).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
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
    for k in ("external_ids", "emails", "phones"):  # a subscription group object
        if isinstance(element.get(k), list):
            parts.append(f"{k[:-1]}={','.join(map(str, element[k]))}")
    alias = element.get("user_alias")
    if isinstance(alias, dict):
        parts.append(f"alias={alias.get('alias_name')}/{alias.get('alias_label')}")
    elif "alias_name" in element:
        parts.append(f"alias={element.get('alias_name')}/{element.get('alias_label')}")
    return ", ".join(parts) or f"row {item.row}"


def journal_line(item: Item) -> str:
    """The item's line in the delivery journal (``ledger.py``): row hash, occurrence, then (user
    attributes) the user key and the attribute state as JSON strings, which hold no tab or
    newline. ``source.rendered_query`` writes the same line in SQL."""
    if item.user_key is not None and item.state:
        user, state = json.dumps(item.user_key), json.dumps(item.state)
        return f"{item.row_hash}\t{item.occurrence}\t{user}\t{state}\n"
    return f"{item.row_hash}\t{item.occurrence}\t\t\n"


def array_of(kind: str) -> str:
    """The request array of a batch kind: the kind up to a ``#``, after which a kind may name
    what keeps its requests apart (``subscription_groups#emails``)."""
    return kind.partition("#")[0]


def envelope(kind: str, bodies: Iterable[bytes]) -> bytes:
    """The request body ``{"<array>":[...]}`` around elements that are already JSON."""
    return b'{"' + array_of(kind).encode() + b'":[' + b",".join(bodies) + b"]}"


def envelope_size(kind: str, sizes: int, count: int) -> int:
    """Bytes of ``{"<array>":[...]}`` around ``count`` elements of ``sizes`` bytes in all."""
    return len(array_of(kind)) + 7 + sizes + max(0, count - 1)


# A row DuckDB rendered: (position, element JSON, journal line).
Rendered = tuple[int, str, str]
_position, _element, _line = itemgetter(0), itemgetter(1), itemgetter(2)


def rendered_item(kind: str, row: Rendered) -> Item:
    position, element, line = row
    row_hash, occurrence, _ = line.split("\t", 2)
    return Item(position, row_hash, int(occurrence), kind, element.encode(), None, None, 1)


class Batch:
    """The objects of one request, of one request array (``kind``): ``Item``s, or rows DuckDB
    rendered whose ``Item``s are made on first use of ``items``."""

    __slots__ = ("_body", "_items", "_rendered", "kind")

    def __init__(self, kind: str, items: list[Item]) -> None:
        self.kind = kind
        self._items: list[Item] | None = items
        self._rendered: Sequence[Rendered] | None = None
        self._body: bytes | None = None

    @classmethod
    def rendered(cls, kind: str, rows: Sequence[Rendered], body: bytes) -> Batch:
        batch = cls.__new__(cls)
        batch.kind, batch._items, batch._rendered, batch._body = kind, None, rows, body
        return batch

    @property
    def items(self) -> list[Item]:
        if self._items is None:
            kind = self.kind
            self._items = [rendered_item(kind, row) for row in self._rendered or ()]
        return self._items

    def __len__(self) -> int:
        return len(self._rendered) if self._items is None else len(self._items)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Batch({self.kind!r}, {len(self)} objects)"

    def body(self) -> bytes:
        if self._body is None:
            self._body = envelope(self.kind, (item.body for item in self.items))
        return self._body

    def rows(self) -> list[int]:
        """The positions of its rows in the model's stream."""
        if self._items is None:
            return list(map(_position, self._rendered))  # type: ignore[arg-type]
        return [item.row for item in self._items]

    def data_points(self) -> int:
        if self._items is None:
            return len(self._rendered)  # type: ignore[arg-type]
        return sum(item.data_points for item in self._items)

    def journal(self) -> str:
        """Its lines in the delivery journal, should Braze acknowledge all of it."""
        if self._items is None:
            return "".join(map(_line, self._rendered))  # type: ignore[arg-type]
        return "".join(map(journal_line, self._items))

    def halves(self) -> tuple[Batch, Batch]:
        items = self.items
        middle = len(items) // 2
        return Batch(self.kind, items[:middle]), Batch(self.kind, items[middle:])


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

    def lower(self, max_objects: int) -> None:
        """From now on, batches close at ``max_objects`` (a limit learned from Braze); one that
        is open now may close with more: the sender cuts it."""
        self.max_objects = max(1, min(self.max_objects, max_objects))

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

    def is_open(self, kind: str) -> bool:
        """Whether a batch of ``kind`` is partly filled."""
        return bool(self._items.get(kind))

    def feed(self, items: Iterable[Item]) -> Iterator[Batch]:
        """The batches ``items`` close; what is left stays open for more."""
        add = self.add
        for item in items:
            yield from add(item)

    def flush(self) -> list[Batch]:
        out = [Batch(kind, items) for kind, items in self._items.items() if items]
        self._items, self._sizes = {}, {}
        return out


def batches(items: Iterable[Item], max_objects: int, max_bytes: int) -> Iterator[Batch]:
    """All batches of ``items``, in order of closing."""
    batcher = Batcher(max_objects, max_bytes)
    yield from batcher.feed(items)
    yield from batcher.flush()


def rendered_batches(
    kind: str, chunks: Iterable[list[Rendered]], batcher: Batcher
) -> Iterator[Batch]:
    """The batches of rendered rows (chunks of them, as fetched), continuing ``batcher`` (a
    batch of ``kind`` it holds open is filled first) and then flushing it. The same batches
    ``batcher.add`` would close for their items: a run of ``max_objects`` rows whose body fits
    in ``max_bytes`` is closed whole; otherwise the rows go through ``add`` one by one until
    that batch is closed."""
    max_bytes, add = batcher.max_bytes, batcher.add
    head, tail = '{"' + array_of(kind) + '":[', "]}"
    rest: list[Rendered] = []
    for chunk in chunks:
        rows = rest + chunk if rest else chunk
        start, end = 0, len(rows)
        while start < end:
            limit = batcher.max_objects  # may be lowered while batches are in flight
            if not batcher.is_open(kind):
                if end - start < limit:
                    break  # wait for the next chunk
                part = rows[start : start + limit]
                body = (head + ",".join(map(_element, part)) + tail).encode()
                if len(body) < max_bytes:  # as add() counts: the body and one more byte
                    yield Batch.rendered(kind, part, body)
                    start += limit
                    continue
            yield from add(rendered_item(kind, rows[start]))
            start += 1
        rest = rows[start:]
    for row in rest:
        yield from add(rendered_item(kind, row))
    yield from batcher.flush()
