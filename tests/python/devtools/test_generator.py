"""braze_currents.devtools.generator: seeded, covering the catalogue, with a plausible funnel."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from braze_currents.catalog import load_catalog
from braze_currents.devtools.generator import (
    FAMILIES,
    CurrentsGenerator,
    GeneratorSettings,
    family_of,
)


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
    assert set(gen.stats.events_by_type) == {e.event_type for e in load_catalog() if not e.retired}


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


# ---- workspaces of a chosen subset of families, and the flat (storage) envelope ----------


@pytest.mark.parametrize("families", [("email",), ("custom_events", "purchases"), ("canvas",)])
def test_families_emit_only_their_event_types(families):
    gen, records = run(events=400, duplicate_rate=0.05, families=families)
    types = {e["event_type"] for e in events_of(records)}
    assert types and all(family_of(t) in families for t in types)
    assert gen.stats.distinct_events == 400
    assert set(gen.stats.events_by_type) == types


def test_every_catalogued_type_has_one_family():
    for event_type in (e.event_type for e in load_catalog()):
        assert family_of(event_type) in FAMILIES
    assert family_of("users.messages.email.Open") == "email"
    assert family_of("users.behaviors.app.SessionStart") == "sessions"
    assert family_of("users.canvasstep.Progression") == "canvas"
    assert family_of("users.messages.carrierpigeon.Send") == "other"


@pytest.mark.parametrize("bad", [{"families": ("email", "telex")}, {"families": ()},
                                 {"envelope": "xml"}])  # fmt: skip
def test_bad_families_and_envelopes_are_refused(bad):
    with pytest.raises(ValueError):
        GeneratorSettings(**bad)


def test_flat_envelope_puts_fields_at_the_top_level():
    gen, records = run(events=3000, envelope="flat", families=("custom_events", "purchases",
                                                                "email"))  # fmt: skip
    events = list(events_of(records))
    assert events and not any("user" in e or isinstance(e.get("properties"), dict) for e in events)
    custom = [e for e in events if e["event_type"] == "users.behaviors.CustomEvent"]
    purchases = [e for e in events if e["event_type"] == "users.behaviors.Purchase"]
    assert custom and purchases
    for e in custom + purchases:
        assert isinstance(e["properties"], str) and isinstance(json.loads(e["properties"]), dict)
        assert e["user_id"]
    assert all(isinstance(p["price"], float) and p["currency"] for p in purchases)
    assert all(e["name"] for e in custom)
    sends = [e for e in events if e["event_type"] == "users.messages.email.Send"]
    assert sends and all("dispatch_id" in e for e in sends[1:])
    assert any("campaign_id" in e for e in sends) and any("canvas_id" in e for e in sends)
    assert gen.stats.envelopes == Counter(flat=len({e["id"] for e in events}))


def test_mixed_envelope_has_both_and_http_stays_the_default_bytes():
    gen, _ = run(events=1000, envelope="mixed")
    assert gen.stats.envelopes["flat"] > 0 and gen.stats.envelopes["http"] > 0
    _, default = run(events=1000, seed=5)
    _, http = run(events=1000, seed=5, envelope="http")
    assert [json.dumps(r.body) for r in default] == [json.dumps(r.body) for r in http]
