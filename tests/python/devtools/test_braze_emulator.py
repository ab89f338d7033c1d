"""The Braze emulator answers as braze-api.md describes."""

from __future__ import annotations

import json
import time

import pytest
import requests

from braze_currents.devtools.emulator import rules, start_emulator, start_emulator_process

KEY = "emu-test-key"
EVENT = {"external_id": "u1", "name": "e", "time": "2024-01-01T00:00:00Z"}


@pytest.fixture
def emu():
    with start_emulator(api_key=KEY) as emulator:
        yield emulator


def post(emu, path, body, key=KEY, content_type="application/json", raw=None):
    headers = {"Content-Type": content_type}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = raw if raw is not None else json.dumps(body).encode()
    return requests.post(emu.url + path, data=data, headers=headers, timeout=10)


def test_track_accepts_and_stores(emu):
    r = post(
        emu, "/users/track", {"events": [EVENT], "attributes": [{"external_id": "u1", "a": 1}]}
    )
    assert r.status_code == 201
    assert r.json() == {"message": "success", "attributes_processed": 1, "events_processed": 1}
    assert emu.store.events == [EVENT]
    assert emu.store.attributes == [{"external_id": "u1", "a": 1}]
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(r.headers)


@pytest.mark.parametrize(("key", "status"), [(None, 401), ("wrong", 401)])
def test_bad_key_is_401(emu, key, status):
    assert post(emu, "/users/track", {"events": [EVENT]}, key=key).status_code == status
    assert emu.store.events == []


def test_key_without_permission_is_403(emu):
    emu.config.keys = {"limited": {"users.identify"}}
    assert post(emu, "/users/track", {"events": [EVENT]}, key="limited").status_code == 403
    body = {
        "aliases_to_identify": [
            {"external_id": "u", "user_alias": {"alias_name": "n", "alias_label": "l"}}
        ]
    }
    assert post(emu, "/users/identify", body, key="limited").status_code == 201


def test_wrong_content_type_is_415(emu):
    assert (
        post(emu, "/users/track", {"events": [EVENT]}, content_type="text/plain").status_code == 415
    )


def test_body_over_the_limit_is_413(emu):
    emu.config.max_body_bytes = 1000
    r = post(emu, "/users/track", {"events": [{**EVENT, "properties": {"x": "y" * 200}}] * 5})
    assert r.status_code == 413


def test_too_many_objects_is_400_max_input_length(emu):
    r = post(
        emu, "/users/track", {"events": [EVENT] * 40, "attributes": [{"external_id": "u"}] * 40}
    )
    assert r.status_code == 400 and "Max Input Length Exceeded" in r.json()["message"]
    emu.config.track_limit_per_array = True  # legacy accounts: 75 per array
    assert (
        post(
            emu, "/users/track", {"events": [EVENT] * 40, "attributes": [{"external_id": "u"}] * 40}
        ).status_code
        == 201
    )
    assert post(emu, "/users/delete", {"external_ids": ["u"] * 51}).status_code == 400


def test_partial_errors_name_array_and_index(emu):
    bad = {"external_id": "u2", "name": "e", "time": "not a time"}
    purchase = {
        "braze_id": "b",
        "product_id": "p",
        "currency": "usd",
        "price": 1,
        "time": "2024-01-01",
    }
    r = post(emu, "/users/track", {"events": [EVENT, bad, EVENT], "purchases": [purchase]})
    assert r.status_code == 201
    assert r.json()["errors"] == [
        {"type": "invalid_time", "input_array": "events", "index": 1},
        {"type": "invalid_currency", "input_array": "purchases", "index": 0},
    ]
    assert len(emu.store.events) == 2 and emu.store.purchases == []


def test_nothing_valid_is_a_fatal_400(emu):
    r = post(emu, "/users/track", {"events": [{"name": "e", "time": "2024-01-01"}]})
    assert r.status_code == 400
    assert r.json()["message"] == rules.FATAL_TRACK_MESSAGE
    assert r.json()["errors"][0]["type"] == "missing_identifier"
    assert post(emu, "/users/track", {}).status_code == 400


@pytest.mark.parametrize(
    ("obj", "error"),
    [
        (
            {"external_id": "u", "braze_id": "b", "name": "e", "time": "2024-01-01"},
            "multiple_identifiers",
        ),
        ({"external_id": "u", "name": "", "time": "2024-01-01"}, "invalid_event_name"),
        (
            {"external_id": "u", "name": "e", "time": "2024-01-01", "properties": {"$x": 1}},
            "invalid_key",
        ),
        (
            {"user_alias": {"alias_name": "n"}, "name": "e", "time": "2024-01-01"},
            "invalid_user_alias",
        ),
        ({"external_id": "x" * 988, "name": "e", "time": "2024-01-01"}, "invalid_external_id"),
    ],
)
def test_event_rules(obj, error):
    assert rules.track_object_error("events", obj) == error


def test_purchase_rules():
    good = {
        "external_id": "u",
        "product_id": "p",
        "currency": "EUR",
        "price": 2.5,
        "time": "2024-01-01",
    }
    assert rules.track_object_error("purchases", good) is None
    assert rules.track_object_error("purchases", {**good, "quantity": 0}) == "invalid_quantity"
    assert rules.track_object_error("purchases", {**good, "price": "2"}) == "invalid_price"


def test_alias_identify_delete(emu):
    r = post(
        emu,
        "/users/alias/new",
        {"user_aliases": [{"alias_name": "n", "alias_label": "l"}, {"alias_name": "x"}]},
    )
    assert r.status_code == 201 and r.json()["aliases_processed"] == 1
    assert r.json()["errors"] == [
        {"type": "invalid_user_alias", "input_array": "user_aliases", "index": 1}
    ]
    r = post(emu, "/users/delete", {"external_ids": ["a", "b"]})
    assert r.status_code == 201 and r.json()["deleted"] == 2
    assert (
        post(emu, "/users/delete", {"external_ids": ["a"], "braze_ids": ["b"]}).status_code == 400
    )
    no_priority = {"email_addresses": [{"email": "a@x"}]}
    assert post(emu, "/users/delete", no_priority).status_code == 400
    assert emu.store.deleted == [("external_ids", "a"), ("external_ids", "b")]


def test_rate_limit_window_answers_429_with_headers(emu):
    emu.config.track_rate = (2, 60.0)
    emu._server.state.windows["track"].limit = 2
    statuses = [post(emu, "/users/track", {"events": [EVENT]}).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    r = post(emu, "/users/track", {"events": [EVENT]})
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < float(r.headers["X-RateLimit-Reset"]) <= 60  # seconds remaining style


def test_epoch_and_retry_after_styles_and_lowercase_names(emu):
    emu.config.reset_style = "epoch"
    emu.faults.schedule = {1: 429}
    r = post(emu, "/users/track", {"events": [EVENT]})
    assert r.status_code == 429 and int(r.headers["X-RateLimit-Reset"]) > time.time() - 1
    emu.config.reset_style = "retry-after"
    emu.config.lowercase_headers = True
    emu.faults.schedule = {2: 429}
    r = post(emu, "/users/track", {"events": [EVENT]})
    raw_names = {name for name, _ in r.raw.headers.items()}
    assert "x-ratelimit-retry-after" in raw_names


def test_scheduled_faults_and_drops(emu):
    emu.faults.schedule = {1: 503, 2: "drop", 3: 500}
    assert post(emu, "/users/track", {"events": [EVENT]}).status_code == 503
    with pytest.raises(requests.ConnectionError):
        post(emu, "/users/track", {"events": [EVENT]})
    assert post(emu, "/users/track", {"events": [EVENT]}).status_code == 500
    assert post(emu, "/users/track", {"events": [EVENT]}).status_code == 201
    assert len(emu.store.events) == 1 and emu.store.dropped == 1 and emu.store.requests == 4


def test_fault_rates_are_seeded(emu):
    emu.faults.error_rate = 0.5
    emu._server.state.rng.seed(3)
    first = [post(emu, "/users/track", {"events": [EVENT]}).status_code for _ in range(20)]
    assert 0 < first.count(503) < 20


def test_latency(emu):
    emu.config.latency = 0.2
    started = time.monotonic()
    post(emu, "/users/track", {"events": [EVENT]})
    assert time.monotonic() - started >= 0.2


def test_invalid_json_and_unknown_path(emu):
    assert post(emu, "/users/track", None, raw=b"{nope").status_code == 400
    assert post(emu, "/users/merge", {}).status_code == 404


def test_admin_endpoints(emu):
    post(emu, "/users/track", {"events": [EVENT]})
    assert requests.get(emu.url + "/_emulator/stats", timeout=5).json()["events"] == 1
    assert requests.get(emu.url + "/_emulator/store", timeout=5).json()["events"] == [EVENT]
    requests.post(emu.url + "/_emulator/reset", timeout=5)
    assert emu.store.events == []


def test_emulator_in_a_child_process():
    with start_emulator_process(latency=0.0, api_key=KEY) as remote:
        r = requests.post(
            remote.url + "/users/track",
            json={"events": [EVENT]},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=10,
        )
        assert r.status_code == 201
        assert remote.stats()["events"] == 1


def test_a_null_in_one_nested_attribute_voids_every_nested_update_of_the_request(emu):
    attributes = [
        {"external_id": "u1", "plain": 1, "book": {"title": "T", "year": None}},
        {"external_id": "u2", "plain": 2, "book": {"title": "U", "year": 2001}},
        {"external_id": "u3", "tags": [{"k": "v"}]},
    ]
    r = post(emu, "/users/track", {"attributes": attributes})
    assert r.status_code == 201  # Braze still answers success
    assert emu.store.attributes == [
        {"external_id": "u1", "plain": 1},
        {"external_id": "u2", "plain": 2},
        {"external_id": "u3"},
    ]
    assert emu.store.nested_voided == 3


@pytest.mark.parametrize("key", ["first name", "a.b", "pri$ce"])
def test_a_bad_nested_key_name_voids_the_nested_updates_of_the_request(emu, key):
    attributes = [
        {"external_id": "u1", "obj": {key: 1}},
        {"external_id": "u2", "obj": {"fine": 1}},
    ]
    assert post(emu, "/users/track", {"attributes": attributes}).status_code == 201
    assert emu.store.attributes == [{"external_id": "u1"}, {"external_id": "u2"}]


def test_valid_nested_attributes_and_time_wrappers_are_kept(emu):
    attributes = [
        {"external_id": "u1", "obj": {"born": {"$time": "2020-01-01"}, "list": [1, 2]}},
        {"external_id": "u2", "n": {"inc": 1}},
    ]
    assert post(emu, "/users/track", {"attributes": attributes}).status_code == 201
    assert emu.store.attributes == attributes
    assert emu.store.nested_voided == 0


def test_delete_refuses_identified_with_unidentified(emu):
    good = {"email": "a@example.com", "prioritization": ["unidentified", "most_recently_updated"]}
    bad = {"email": "b@example.com", "prioritization": ["identified", "unidentified"]}
    r = post(emu, "/users/delete", {"email_addresses": [good, bad]})
    assert r.status_code == 201
    assert r.json()["errors"] == [
        {"type": "invalid_prioritization", "input_array": "email_addresses", "index": 1}
    ]
    assert emu.store.deleted == [("email_addresses", good)]


def test_identify_takes_emails_and_phone_numbers_with_a_prioritization(emu):
    good = {"external_id": "u1", "email": "a@example.com", "prioritization": ["unidentified"]}
    bad = {"external_id": "u2", "email": "b@example.com"}  # no prioritization
    r = post(emu, "/users/identify", {"emails_to_identify": [good, bad]})
    assert r.status_code == 201
    assert r.json()["errors"] == [
        {"type": "invalid_prioritization", "input_array": "emails_to_identify", "index": 1}
    ]
    phone = {"external_id": "u3", "phone": "+1555", "prioritization": ["identified"]}
    assert post(emu, "/users/identify", {"phone_numbers_to_identify": [phone]}).status_code == 201
    assert emu.store.identified == [good, phone]


def test_subscription_status_set_limits_and_validation(emu):
    group = {"subscription_group_id": "g", "subscription_state": "subscribed"}
    ok = post(emu, "/v2/subscription/status/set",
              {"subscription_groups": [{**group, "external_ids": ["u1", "u2"]}]})  # fmt: skip
    assert ok.status_code == 201
    assert emu.store.subscriptions == [
        ("g", "subscribed", "external_ids", "u1"),
        ("g", "subscribed", "external_ids", "u2"),
    ]
    both = [{**group, "emails": ["a@example.com"]}, {**group, "phones": ["+1555"]}]
    assert (
        post(emu, "/v2/subscription/status/set", {"subscription_groups": both}).status_code == 400
    )
    many = [{**group, "external_ids": [f"u{i}" for i in range(51)]}]
    r = post(emu, "/v2/subscription/status/set", {"subscription_groups": many})
    assert r.status_code == 400 and "Max Input Length" in r.json()["message"]
    bad = [{**group, "subscription_state": "maybe", "external_ids": ["u9"]}]
    assert post(emu, "/v2/subscription/status/set", {"subscription_groups": bad}).status_code == 400
    assert len(emu.store.subscriptions) == 2
