"""Events as real Currents data has them, which the generator's clean envelopes do not show:
an id re-delivered with another `time`, both envelopes Braze documents (Custom HTTP, and the
flat shape of its storage connectors with custom event and purchase properties as JSON text),
`properties` as JSON text, a `time` that is not a number, envelope keys the stream does not
know. Hand-written events, two loads, one warehouse built incrementally and one copy rebuilt
from scratch."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from warehouse_testing import Warehouse

pytestmark = pytest.mark.dbt

T = 1_790_000_000
HTTP_USER = {"user_id": "braze_1", "external_user_id": "user_1", "timezone": "Europe/Paris"}

FIRST_LOAD = [
    # Custom HTTP, with envelope keys and user keys the stream does not know.
    {
        "event_type": "users.messages.email.Send",
        "id": "redelivered",
        "time": T,
        "user": {**HTTP_USER, "alias_name": "crm_42", "alias_label": "crm"},
        "properties": {"campaign_id": "campaign_first", "dispatch_id": "d1"},
        "app": {"id": "app_1", "name": "Shop"},
        "device": {"model": "Pixel 8"},
    },
    # Flat (storage connectors): fields at the top level, custom properties as JSON text.
    {
        "event_type": "users.behaviors.CustomEvent",
        "id": "flat_custom",
        "time": T + 1,
        "user_id": "braze_2",
        "external_user_id": "user_2",
        "app_id": "app_1",
        "name": "viewed_product",
        "platform": "ios",
        "properties": json.dumps({"screen": "home", "value": 3}),
    },
    {
        "event_type": "users.behaviors.Purchase",
        "id": "flat_purchase",
        "time": T + 2,
        "user_id": "braze_2",
        "external_user_id": "user_2",
        "product_id": "sku_1",
        "price": 9.99,
        "currency": "USD",
        "properties": json.dumps({"quantity": 2}),
    },
    # Custom HTTP, its properties as JSON text.
    {
        "event_type": "users.behaviors.Purchase",
        "id": "text_properties",
        "time": T + 3,
        "user": HTTP_USER,
        "properties": json.dumps({"product_id": "sku_2", "price": 5.5, "currency": "EUR"}),
    },
    # Values that cannot be placed: kept, and counted by a warning test.
    {
        "event_type": "users.behaviors.CustomEvent",
        "id": "flat_custom_bad_text",
        "time": T + 4,
        "user_id": "braze_3",
        "name": "searched",
        "properties": "{not json",
    },
    {
        "event_type": "users.behaviors.Purchase",
        "id": "http_properties_not_an_object",
        "time": T + 5,
        "user": HTTP_USER,
        "properties": "[1, 2]",
    },
    # `time`: a numeric text is a time; a boolean, an object, a list are not.
    {
        "event_type": "users.behaviors.Uninstall",
        "id": "time_text",
        "time": str(T + 6),
        "user": HTTP_USER,
        "properties": {},
    },
    {
        "event_type": "users.behaviors.Uninstall",
        "id": "time_true",
        "time": True,
        "user": HTTP_USER,
        "properties": {},
    },
    {
        "event_type": "users.behaviors.Uninstall",
        "id": "time_false",
        "time": False,
        "user": HTTP_USER,
        "properties": {},
    },
    {
        "event_type": "users.behaviors.Uninstall",
        "id": "time_object",
        "time": {"s": T},
        "user": HTTP_USER,
        "properties": {},
    },
    {
        "event_type": "users.behaviors.Uninstall",
        "id": "time_list",
        "time": [T],
        "user": HTTP_USER,
        "properties": {},
    },
]
# Types Braze has retired, as older exports hold them: flat (storage) and Custom HTTP.
FIRST_LOAD += [
    {
        "event_type": "users.behaviors.UpgradedApp",
        "id": "retired_flat",
        "time": T + 8,
        "user_id": "braze_2",
        "app_id": "app_1",
        "old_app_version": "1.2.0",
        "new_app_version": "1.3.0",
        "sdk_version": "4.0.0",
    },
    {
        "event_type": "users.campaigns.Abort",
        "id": "retired_http",
        "time": T + 9,
        "user": HTTP_USER,
        "properties": {"campaign_id": "campaign_first", "abort_type": "quiet_hours"},
    },
]
# The same id again, later, with another time and other properties: not a second event.
SECOND_LOAD = [
    dict(FIRST_LOAD[0], time=T + 7200, properties={"campaign_id": "campaign_second"}),
    {
        "event_type": "users.behaviors.Uninstall",
        "id": "second_load_only",
        "time": T + 10,
        "user": HTTP_USER,
        "properties": {},
    },
]
USABLE_IDS = {e["id"] for e in FIRST_LOAD + SECOND_LOAD} - {
    "time_true", "time_false", "time_object", "time_list"
}  # fmt: skip


@dataclass
class Built:
    incremental: Warehouse
    full: Warehouse
    # unique_id -> result, of the incremental warehouse's build after the first load (the
    # warning tests read the loads of the latest run)
    results: dict


def build(wh: Warehouse, *args: str) -> dict:
    # Without the unit tests and the per-model primary key tests (as test_workspaces.py).
    excluded = ("resource_type:unit_test", "test_name:braze_currents__primary_key")
    wh.dbt("build", "--exclude", *excluded, *args)
    results = json.loads((wh.target / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r for r in results}


@pytest.fixture(scope="module")
def built(tmp_path_factory, dbt_target) -> Built:
    tmp = tmp_path_factory.mktemp("real_events")
    wh = Warehouse(tmp / "inc" / "currents.duckdb", dbt_target)
    builds = []
    for n, events in enumerate((FIRST_LOAD, SECOND_LOAD)):
        path = tmp / f"load{n}.ndjson"
        path.write_text(json.dumps({"events": events}) + "\n")
        wh.load(path)
        builds.append(build(wh))
    full = wh.copy_to(tmp / "full")
    build(full, "--full-refresh")
    return Built(wh, full, builds[0])


def test_an_id_is_one_event_across_loads_whatever_its_time(built):
    for wh in (built.incremental, built.full):
        rows = wh.query(
            "select epoch(event_at)::bigint, properties->>'campaign_id' "
            "from staging.stg_braze_currents__events where event_id = 'redelivered'"
        )
        assert rows == [(T, "campaign_first")]  # the first loaded copy
        assert (
            wh.scalar(
                "select count(*) from marts.fct_message_engagement where event_id = 'redelivered'"
            )
            == 1
        )
    ids = {
        i for (i,) in built.incremental.query(
            "select event_id from staging.stg_braze_currents__events"
        )
    }  # fmt: skip
    assert ids == USABLE_IDS


def test_incremental_equals_full_refresh(built):
    for model in ("stg_braze_currents__events", "stg_braze_currents__invalid_events"):
        sql = f"select * exclude (loaded_at) from staging.{model} order by all"
        a, b = built.incremental.query(sql), built.full.query(sql)
        assert a and a == b, model


def test_flat_custom_event_is_typed(built):
    row = built.incremental.query(
        "select braze_id, external_user_id, app_id, name, platform, "
        "custom_properties->>'screen', (custom_properties->>'value')::int "
        "from staging.stg_braze_currents__custom_events where event_id = 'flat_custom'"
    )
    assert row == [("braze_2", "user_2", "app_1", "viewed_product", "ios", "home", 3)]


def test_purchases_are_typed_from_either_envelope(built):
    rows = built.incremental.query(
        "select event_id, product_id, price, currency, purchase_properties->>'quantity' "
        "from staging.stg_braze_currents__purchases "
        "where event_id in ('flat_purchase', 'text_properties') order by 1"
    )
    assert rows == [
        ("flat_purchase", "sku_1", 9.99, "USD", "2"),
        ("text_properties", "sku_2", 5.5, "EUR", None),
    ]
    facts = built.incremental.query(
        "select event_id, product_id, price, currency from marts.fct_purchases "
        "where event_id in ('flat_purchase', 'text_properties') order by 1"
    )
    assert facts == [r[:4] for r in rows]


def test_properties_that_cannot_be_placed_are_kept_and_counted(built):
    wh = built.incremental
    kept = dict(
        wh.query(
            "select event_id, properties::varchar from staging.stg_braze_currents__events "
            "where event_id in ('flat_custom_bad_text', 'http_properties_not_an_object')"
        )
    )
    assert "{not json" in kept["flat_custom_bad_text"]
    assert kept["http_properties_not_an_object"] == '"[1, 2]"'
    test = next(
        r for uid, r in built.results.items() if "braze_currents__properties_are_placed" in uid
    )
    assert test["status"] == "warn"
    listed = {row[0] for row in wh.query(test["compiled_code"])}
    assert listed == {"flat_custom_bad_text", "http_properties_not_an_object"}


def test_retired_types_are_typed(built):
    wh = built.incremental
    assert wh.query(
        "select braze_id, app_id, old_app_version, new_app_version, sdk_version "
        "from staging.stg_braze_currents__app_upgrades"
    ) == [("braze_2", "app_1", "1.2.0", "1.3.0", "4.0.0")]
    assert wh.query(
        "select event_id, external_user_id, campaign_id, abort_type "
        "from staging.stg_braze_currents__campaign_aborts"
    ) == [("retired_http", "user_1", "campaign_first", "quiet_hours")]


def test_time_must_be_a_number_or_numeric_text(built):
    wh = built.incremental
    at = wh.scalar(
        "select epoch(event_at)::bigint from staging.stg_braze_currents__events "
        "where event_id = 'time_text'"
    )
    assert at == T + 6
    reasons = dict(
        wh.query(
            "select event_id, reason from staging.stg_braze_currents__invalid_events "
            "where event_id like 'time_%'"
        )
    )
    assert reasons == {
        "time_true": "time is not a number (boolean)",
        "time_false": "time is not a number (boolean)",
        "time_object": "time is not a number (object)",
        "time_list": "time is not a number (array)",
    }


def test_unknown_envelope_keys_reach_staging_and_are_listed(built):
    wh = built.incremental
    extras = wh.scalar(
        "select envelope_extras::varchar from staging.stg_braze_currents__events "
        "where event_id = 'redelivered'"
    )
    assert json.loads(extras) == {
        "app": {"id": "app_1", "name": "Shop"},
        "device": {"model": "Pixel 8"},
        "user": {"alias_name": "crm_42", "alias_label": "crm"},
    }
    # Flat events have no envelope extras: their top-level fields are their properties.
    assert (
        wh.scalar(
            "select count(*) from staging.stg_braze_currents__events "
            "where envelope_extras is not null"
        )
        == 1
    )
    test = next(
        r for uid, r in built.results.items() if "braze_currents__known_envelope_keys" in uid
    )
    assert test["status"] == "warn"
    listed = {(t, k) for t, k, *_ in wh.query(test["compiled_code"])}
    assert listed == {
        ("users.messages.email.Send", "app"),
        ("users.messages.email.Send", "device"),
        ("users.messages.email.Send", "user.alias_name"),
        ("users.messages.email.Send", "user.alias_label"),
    }
