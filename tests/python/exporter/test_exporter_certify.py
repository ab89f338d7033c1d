"""The SQL certification never accepts a row the Python validation rejects, and certifies
plain typed marts whole (so the validation pass costs a scan, not a Python loop)."""

from __future__ import annotations

import json
import random

import duckdb
import pytest

from braze_currents.devtools.sandbox import events_sql
from braze_currents.exporter.batching import journal_line, max_element_bytes, rendered_item
from braze_currents.exporter.certify import Certifier, ElementRenderer
from braze_currents.exporter.modes import Mode, RecordType, target_for
from braze_currents.exporter.payload import ObjectShaper, plan_columns
from braze_currents.exporter.prepare import Invalid, Preparer
from braze_currents.exporter.source import (
    LedgerJoin,
    Relation,
    rendered_query,
    stream_query,
    stream_rows,
)
from braze_currents.exporter.validation import checker_for

TEXT = [
    "u1",
    None,
    "",
    "a",
    "u1",
    "$x",
    "x" * 255,
    "x" * 256,
    "é" * 493,
    "é" * 494,
    "USD",
    "usd",
    " EUR",
]
TIMES = ["2024-01-01 00:00:00", "infinity", "10000-01-01", None]
COLUMNS = {
    "external_id": ("VARCHAR", TEXT),  # first values: the plausible ones
    "braze_id": ("VARCHAR", [None, None, None, "b1", ""]),
    "alias_name": ("VARCHAR", [None, None, "n", ""]),
    "alias_label": ("VARCHAR", [None, None, "l"]),
    "email": ("VARCHAR", [None, None, None, "e@x", ""]),
    "phone": ("BIGINT", [None, None, None, 15551234]),
    "name": ("VARCHAR", TEXT),
    "time": ("TIMESTAMP", TIMES),
    "app_id": ("VARCHAR", [None, "app"]),
    "product_id": ("VARCHAR", TEXT),
    "currency": ("VARCHAR", ["USD", *TEXT]),
    "price": ("DOUBLE", [1.5, None, float("nan"), float("inf"), -2.0]),
    "quantity": ("INTEGER", [None, 0, 1, 100, 101]),
    "note": ("VARCHAR", TEXT),
    "score": ("DOUBLE", [None, 2.5, float("nan")]),
    "$bad": ("VARCHAR", [None, "x"]),
    "_update_existing_only": ("BOOLEAN", [None, True]),
}
MODES = [
    (Mode.TRACK, RecordType.CUSTOM_EVENTS),
    (Mode.TRACK, RecordType.PURCHASES),
    (Mode.TRACK, RecordType.USER_ATTRIBUTES),
    (Mode.NEW_ALIAS, None),
    (Mode.IDENTIFY, None),
    (Mode.DELETE, None),
]


def _table(con, n: int, seed: int) -> None:
    """Table ``t``: ``n`` rows of values drawn from each column's pool (column-wise insert)."""
    rng = random.Random(seed)
    defs = ", ".join(f'"{c}" {t}' for c, (t, _) in COLUMNS.items())
    con.execute(f"CREATE TABLE t ({defs})")
    # mostly the first value of each pool (a plausible one), else any: single faults abound
    columns = [
        [pool[0] if rng.random() < 0.8 else rng.choice(pool) for _ in range(n)]
        for _, pool in COLUMNS.values()
    ]
    unnests = ", ".join(f"unnest(${i + 1}::{t}[])" for i, (t, _) in enumerate(COLUMNS.values()))
    con.execute(f"INSERT INTO t SELECT {unnests}", columns)


@pytest.mark.parametrize(("mode", "record_type"), MODES, ids=[f"{m}-{r}" for m, r in MODES])
@pytest.mark.parametrize("prioritization", [(), ("identified",)])
def test_certified_rows_are_valid_in_python(tmp_path, mode, record_type, prioritization):
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    _table(con, 1500, seed=len(str(mode)) + len(str(record_type)))
    described = [(r[0], r[1]) for r in con.execute("DESCRIBE t").fetchall()]
    names = [c for c, _ in described]
    plans = plan_columns(described)
    target = target_for(mode, record_type)
    shaper = ObjectShaper(mode, record_type, names, target.array_key, prioritization)
    certifier = Certifier(
        shaper,
        described,
        frozenset(),
        prioritization,
        max_element_bytes(target.array_key, 4_000_000),
    )
    predicate = certifier.predicate()
    preparer = Preparer(plans, shaper, checker_for(mode, record_type), 4_000_000, False, False)
    relation = Relation(None, "main", "t")
    base = stream_query(relation, plans, (), False, LedgerJoin(None, None))
    certified_sql = stream_query(
        relation,
        plans,
        (),
        False,
        LedgerJoin(None, None),
        only_where=f"coalesce({predicate}, FALSE)",
    )
    certified = [row for chunk in stream_rows(con, certified_sql, [], 1000) for row in chunk]
    wrongly = [
        (out.reason, row[:8])
        for row in certified
        if isinstance(out := preparer.prepare(row), Invalid)
    ]
    assert wrongly == []
    total = sum(len(c) for c in stream_rows(con, base, [], 1000))
    assert total == 1500
    valid = sum(
        not isinstance(preparer.prepare(row), Invalid)
        for chunk in stream_rows(con, base, [], 1000)
        for row in chunk
    )
    assert 0 < len(certified) <= valid  # it certifies rows, never more than are valid

    # where DuckDB renders the element too, it is the object Python would have built
    element = ElementRenderer(shaper, plans, certifier.types).element_sql()
    if element is None:
        assert (mode, record_type) in (
            (Mode.TRACK, RecordType.USER_ATTRIBUTES),
            (Mode.DELETE, None),
        )
        return
    rendered_sql = stream_query(
        relation, plans, (), False, LedgerJoin(None, None), certified=predicate, element=element
    )
    # the sending pass reads certified rows as position, element and journal line
    sending_sql = rendered_query(
        stream_query(
            relation,
            plans,
            (),
            False,
            LedgerJoin(None, None),
            only_where=predicate,
            certified=predicate,
            element=element,
        )
    )
    sent = {r[0]: r for chunk in stream_rows(con, sending_sql, [], 1000) for r in chunk}
    compared = 0
    for chunk in stream_rows(con, rendered_sql, [], 1000):
        for row in chunk:
            if row[-1] is None:
                continue
            fast = preparer.prepare(row)
            slow = preparer.prepare((*row[:-1], None))
            assert json.loads(fast.body) == json.loads(slow.body), (fast.body, slow.body)
            item = rendered_item(target.array_key, sent[fast.row])
            assert item == fast and journal_line(item) == journal_line(slow)
            compared += 1
    assert compared == len(certified) == len(sent)


def test_a_typed_mart_is_certified_whole(box, emu, run):
    box.add_model("events", events_sql(2000))
    result = run(
        "--model", "events", "--mode", "user_track", "--track-record-type", "custom_events"
    )
    assert result.code == 0
    assert result.report["validation_rows_checked_in_python"] == 0


CLEAN = {
    "purchases": (
        "user_track",
        "purchases",
        "SELECT 'u' || i AS external_id, 'sku' AS product_id, 'EUR' AS currency, "
        "2.5::DECIMAL(6, 2) AS price, 1 + i % 100 AS quantity, DATE '2024-01-01' AS time, "
        "'web' AS app_id, i AS level FROM range(100) r(i)",
    ),
    "user_attributes": (
        "user_track",
        "user_attributes",
        "SELECT 'u' || i AS external_id, 'e' || i || '@x' AS email, i % 7 AS visits, "
        "NULL::VARCHAR AS city, true AS _update_existing_only FROM range(100) r(i)",
    ),
    "user_new_alias": (
        "user_new_alias",
        None,
        "SELECT 'n' || i AS alias_name, 'crm' AS alias_label FROM range(100) r(i)",
    ),
    "user_identify": (
        "user_identify",
        None,
        "SELECT i AS external_id, 'n' || i AS alias_name, 'crm' AS alias_label "
        "FROM range(100) r(i)",
    ),
    "user_delete": ("user_delete", None, "SELECT 'u' || i AS external_id FROM range(100) r(i)"),
}


@pytest.mark.parametrize("case", sorted(CLEAN))
def test_clean_marts_of_every_mode_are_certified_whole(box, emu, run, case):
    mode, record_type, sql = CLEAN[case]
    box.add_model("m", sql)
    args = ["--model", "m", "--mode", mode]
    if record_type:
        args += ["--track-record-type", record_type]
    result = run(*args)
    assert result.code == 0, result.err
    assert result.report["sent"] == 100
    assert result.report["validation_rows_checked_in_python"] == 0


def test_text_times_are_left_to_python(box, emu, run):
    box.add_model(
        "events",
        "SELECT 'u' || i AS external_id, 'e' AS name, '2024-01-01' AS time FROM range(10) r(i)",
    )
    result = run(
        "--model", "events", "--mode", "user_track", "--track-record-type", "custom_events"
    )
    assert result.code == 0
    assert result.report["validation_rows_checked_in_python"] == 10
