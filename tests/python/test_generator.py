"""braze_currents.generator: seeded, covering the catalogue, with a plausible funnel."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from braze_currents.catalog import load_catalog
from braze_currents.generator import CurrentsGenerator, GeneratorSettings


def run(**kw):
    gen = CurrentsGenerator(GeneratorSettings(**kw))
    records = list(gen.records())
    return gen, records


def events_of(records):
    for r in records:
        if r.body and isinstance(r.body.get("events"), list):
            yield from r.body["events"]


def test_same_seed_same_output_other_seed_other_output():
    _, a = run(events=2000, seed=3, duplicate_rate=0.1)
    _, b = run(events=2000, seed=3, duplicate_rate=0.1)
    _, c = run(events=2000, seed=4, duplicate_rate=0.1)
    dump = lambda rs: [json.dumps(r.body) if r.body else r.broken_text for r in rs]  # noqa: E731
    assert dump(a) == dump(b)
    assert dump(a) != dump(c)


def test_exactly_the_requested_distinct_events_and_every_type():
    gen, records = run(events=5000, duplicate_rate=0.05)
    ids = [e["id"] for e in events_of(records)]
    assert len(set(ids)) == 5000 == gen.stats.distinct_events
    assert len(ids) - len(set(ids)) == gen.stats.duplicate_deliveries > 0
    assert set(gen.stats.events_by_type) == {e.event_type for e in load_catalog()}


def test_funnel_is_plausible():
    gen, _ = run(events=60_000)
    n = gen.stats.events_by_type
    email = {a: n[f"users.messages.email.{a}"] for a in ("Send", "Delivery", "Open", "Click")}
    assert email["Send"] >= email["Delivery"] >= email["Open"] >= email["Click"] > 0
    assert n["users.messages.email.Bounce"] > 0 and n["users.messages.email.Unsubscribe"] > 0
    assert n["users.behaviors.app.SessionStart"] >= n["users.behaviors.app.SessionEnd"] > 0
    sms = [n[f"users.messages.sms.{a}"] for a in ("Send", "CarrierSend", "Delivery")]
    assert sms == sorted(sms, reverse=True)


def test_purchases_in_several_currencies_and_fields_typed_as_catalogued():
    _, records = run(events=30_000)
    purchases = [e for e in events_of(records) if e["event_type"] == "users.behaviors.Purchase"]
    currencies = Counter(p["properties"]["currency"] for p in purchases)
    assert len(currencies) >= 4
    assert all(isinstance(p["properties"]["price"], float) for p in purchases)
    catalog = {e.event_type: e for e in load_catalog()}
    types = {"varchar": str, "bigint": int, "double": (int, float), "boolean": bool}
    for event in events_of(records):
        spec = catalog[event["event_type"]]
        props = event if spec.flat else event["properties"]
        for f in spec.source_fields:
            value = props.get(f.json_key)
            if value is not None and f.data_type in types:
                assert isinstance(value, types[f.data_type]), (event["event_type"], f.name)


def test_faults_are_counted():
    gen, records = run(
        events=3000, malformed_rate=0.2, bad_event_rate=0.05, unknown_type_rate=0.05,
        drift_rate=0.05, batch_redelivery_rate=0.1,
    )  # fmt: skip
    s = gen.stats
    assert sum(s.malformed_records.values()) == sum(1 for r in records if not _usable(r)) > 0
    assert sum(s.bad_events.values()) > 0
    assert s.events_by_type["users.messages.carrierpigeon.Send"] > 0
    assert s.redelivered_batches > 0 and sum(s.drifted_events.values()) > 0
    # Events of broken records are delivered again later: no distinct event is lost.
    usable_ids = {
        e["id"]
        for r in records
        if _usable(r)
        for e in r.body["events"]
        if "id" in e and isinstance(e.get("time"), int) and "event_type" in e
    }
    assert len(usable_ids) == s.distinct_events == 3000


def _usable(record) -> bool:
    return bool(record.body) and isinstance(record.body.get("events"), list)


@pytest.mark.parametrize(
    "bad", [{"duplicate_rate": 1.5}, {"days": 0}, {"events": -1}, {"users": 0}]
)
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        GeneratorSettings(**bad)
