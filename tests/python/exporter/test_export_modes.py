"""Every mode, in both spellings, end to end against the emulator."""

from __future__ import annotations

import json

import pytest

from braze_currents.devtools.sandbox import events_sql


@pytest.mark.parametrize("mode", ["user_track", "User - Track"])
def test_custom_events_arrive_once_with_iso_time_and_properties(box, emu, run, mode):
    box.add_model("events", events_sql(200))
    result = run("--model", "events", "--mode", mode, "--track-record-type", "custom_events")
    assert result.code == 0, result.err
    assert result.report["sent"] == 200 and result.report["rows"] == 200
    assert result.report["requests"] == 3  # 75 + 75 + 50
    by_user = {e["external_id"]: e for e in emu.store.events}
    assert len(emu.store.events) == 200 == len(by_user)
    assert by_user["user-7"] == {
        "external_id": "user-7",
        "name": "played",
        "time": "2024-05-01T10:00:07.000000Z",
        "properties": {"level": 7},
    }


def test_purchases_with_decimal_price_date_time_and_properties(box, emu, run):
    box.add_model(
        "purchases",
        """SELECT * FROM (VALUES
            ('u1', 'sku-1', 'USD', 9.99::DECIMAL(10, 2), 2, DATE '2024-05-02', 'web', 'blue'),
            ('u2', 'sku-2', 'eur', 5.00::DECIMAL(10, 2), NULL, DATE '2024-05-03', NULL, NULL)
        ) AS t(external_id, product_id, currency, price, quantity, time, app_id, colour)""",
    )
    result = run(
        "--model", "purchases", "--mode", "User - Track", "--track-record-type", "purchases"
    )
    assert result.code == 0, result.err
    got = sorted(emu.store.purchases, key=lambda p: p["external_id"])
    assert got == [
        {
            "external_id": "u1",
            "app_id": "web",
            "product_id": "sku-1",
            "currency": "USD",
            "price": 9.99,
            "quantity": 2,
            "time": "2024-05-02T00:00:00.000000Z",
            "properties": {"colour": "blue"},
        },
        {
            "external_id": "u2",
            "product_id": "sku-2",
            "currency": "EUR",
            "price": 5.0,
            "time": "2024-05-03T00:00:00.000000Z",  # a DATE time: a date-time in UTC
        },
    ]


def test_user_attributes_types_nulls_and_flags(box, emu, run):
    box.add_model(
        "attrs",
        """SELECT 'u1' AS external_id, 'a@example.com' AS email, DATE '1990-02-03' AS birthday,
                  TIMESTAMPTZ '2024-01-02 03:04:05+02' AS last_seen, ['a', 'b'] AS tags,
                  {'plan': 'pro', 'since': TIMESTAMP '2023-01-01 00:00:00'} AS subscription,
                  '{"k": [1, 2]}'::JSON AS blob_json, NULL::VARCHAR AS nickname,
                  MAP {'x': 1} AS counters, true AS _update_existing_only, 4.5::DOUBLE AS score""",
    )
    result = run(
        "--model", "attrs", "--mode", "user_track", "--track-record-type", "user_attributes"
    )
    assert result.code == 0, result.err
    assert emu.store.attributes == [
        {
            "external_id": "u1",
            "email": "a@example.com",
            "birthday": "1990-02-03",
            "last_seen": "2024-01-02T01:04:05.000000Z",
            "tags": ["a", "b"],
            "subscription": {"plan": "pro", "since": {"$time": "2023-01-01T00:00:00.000000Z"}},
            "blob_json": {"k": [1, 2]},
            "counters": {"x": 1},
            "score": 4.5,
            "_update_existing_only": True,
        }
    ]
    assert "nickname" not in emu.store.attributes[0]  # NULL never deletes an attribute
    assert result.report["data_points_sent"] == 8  # every attribute, not the id or the flag


def test_user_attributes_by_email_alone(box, emu, run):
    box.add_model("by_email", "SELECT 'b@example.com' AS email, 'Bo' AS first_name")
    result = run(
        "--model", "by_email", "--mode", "user_track", "--track-record-type", "user_attributes"
    )
    assert result.code == 0, result.err
    assert emu.store.attributes == [{"email": "b@example.com", "first_name": "Bo"}]


@pytest.mark.parametrize("mode", ["user_new_alias", "User - New Alias"])
def test_new_alias_with_and_without_external_id(box, emu, run, mode):
    box.add_model(
        "aliases",
        """SELECT * FROM (VALUES ('n1', 'crm', 'u1'), ('n2', 'crm', NULL))
           AS t(alias_name, alias_label, external_id)""",
    )
    result = run("--model", "aliases", "--mode", mode)
    assert result.code == 0, result.err
    assert sorted(emu.store.aliases, key=lambda a: a["alias_name"]) == [
        {"external_id": "u1", "alias_name": "n1", "alias_label": "crm"},
        {"alias_name": "n2", "alias_label": "crm"},
    ]


@pytest.mark.parametrize("mode", ["user_identify", "User - Identify"])
def test_identify(box, emu, run, mode):
    box.add_model(
        "identify",
        "SELECT 'u' || i AS external_id, 'n' || i AS alias_name, 'crm' AS alias_label "
        "FROM range(120) r(i)",
    )
    result = run("--model", "identify", "--mode", mode)
    assert result.code == 0, result.err
    assert len(emu.store.identified) == 120
    assert result.report["requests"] == 3  # 50 per request
    assert {"external_id": "u3", "user_alias": {"alias_name": "n3", "alias_label": "crm"}} in (
        emu.store.identified
    )


@pytest.mark.parametrize("mode", ["user_delete", "User - Delete"])
def test_delete_sends_one_identifier_kind_per_request(box, emu, run, mode):
    box.add_model(
        "deletes",
        """SELECT * FROM (VALUES
            ('u1', NULL, NULL, NULL, NULL), ('u2', NULL, NULL, NULL, NULL),
            (NULL, 'b1', NULL, NULL, NULL), (NULL, NULL, 'n1', 'crm', NULL),
            (NULL, NULL, NULL, NULL, 'c@example.com')
        ) AS t(external_id, braze_id, alias_name, alias_label, email)""",
    )
    result = run(
        "--model",
        "deletes",
        "--mode",
        mode,
        "--delete-prioritization",
        "identified,most_recently_updated",
    )
    assert result.code == 0, result.err
    assert result.report["requests"] == 4  # four kinds, never mixed (the emulator 400s on a mix)
    assert sorted(map(json.dumps, emu.store.deleted)) == sorted(
        map(
            json.dumps,
            [
                ("external_ids", "u1"),
                ("external_ids", "u2"),
                ("braze_ids", "b1"),
                ("user_aliases", {"alias_name": "n1", "alias_label": "crm"}),
                (
                    "email_addresses",
                    {
                        "email": "c@example.com",
                        "prioritization": ["identified", "most_recently_updated"],
                    },
                ),
            ],
        )
    )


def test_pre_formatted_fields_are_sent_as_json(box, emu, run):
    box.add_model(
        "pre",
        """SELECT 'u1' AS external_id, '{"plan": "pro", "seats": 3}' AS plan,
                  '[1, 2]' AS lucky, '{"not": "parsed"}' AS plain_text""",
    )
    result = run(
        "--model", "pre", "--mode", "user_track", "--track-record-type", "user_attributes",
        "--pre-formatted-fields", "plan,lucky",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert emu.store.attributes == [
        {
            "external_id": "u1",
            "plan": {"plan": "pro", "seats": 3},
            "lucky": [1, 2],
            "plain_text": '{"not": "parsed"}',
        }
    ]


def test_properties_column_is_merged_into_event_properties(box, emu, run):
    box.add_model(
        "props",
        """SELECT 'u1' AS external_id, 'bought' AS name, '2024-01-01T00:00:00Z' AS time,
                  '{"a": 1, "b": null}'::JSON AS properties, 'x' AS c, NULL AS d""",
    )
    result = run("--model", "props", "--mode", "user_track", "--track-record-type", "custom_events")
    assert result.code == 0, result.err
    assert emu.store.events[0]["properties"] == {"a": 1, "c": "x"}


def test_alias_identifies_track_objects(box, emu, run):
    box.add_model(
        "alias_events",
        "SELECT 'n1' AS alias_name, 'crm' AS alias_label, 'e' AS name, "
        "'2024-01-01T00:00:00+00:00' AS time",
    )
    result = run(
        "--model", "alias_events", "--mode", "user_track", "--track-record-type", "custom_events"
    )
    assert result.code == 0, result.err
    assert emu.store.events == [
        {
            "user_alias": {"alias_name": "n1", "alias_label": "crm"},
            "name": "e",
            "time": "2024-01-01T00:00:00.000000Z",  # text times: ISO 8601 in UTC
        }
    ]


def test_empty_model_sends_nothing_and_succeeds(box, emu, run):
    box.add_model("empty", events_sql(0))
    result = run("--model", "empty", "--mode", "user_track", "--track-record-type", "custom_events")
    assert result.code == 0
    assert result.report["rows"] == 0 and result.report["requests"] == 0
    assert emu.store.requests == 0


def test_rows_rendered_by_duckdb_and_by_python_mix(box, emu, run):
    """Lower-case currencies are valid but not certified: Python prepares those rows, DuckDB
    renders the others' bodies; every row arrives once, in the same shape."""
    box.add_model(
        "purchases",
        """SELECT 'u' || i AS external_id, 'sku' AS product_id,
                  CASE WHEN i % 7 = 0 THEN 'usd' ELSE 'USD' END AS currency,
                  (i / 4)::DECIMAL(8, 2) AS price, DATE '2024-01-01' AS time
           FROM range(200) r(i)""",
    )
    result = run("--model", "purchases", "--mode", "user_track", "--track-record-type", "purchases")
    assert result.code == 0, result.err
    assert result.report["validation_rows_checked_in_python"] == 29
    by_user = {p["external_id"]: p for p in emu.store.purchases}
    assert len(emu.store.purchases) == 200 == len(by_user)
    assert by_user["u7"] == {
        "external_id": "u7",
        "product_id": "sku",
        "currency": "USD",
        "price": 1.75,
        "time": "2024-01-01T00:00:00.000000Z",
    }
    assert by_user["u8"] == {**by_user["u7"], "external_id": "u8", "price": 2.0}


def test_the_report_says_when_the_first_request_left_and_the_last_answer_came(box, emu, run):
    box.add_model("events", events_sql(200))
    emu.config.latency = 0.1  # every answer takes 0.1 s: at least that much of sending
    args = ("--model", "events", "--mode", "user_track", "--track-record-type", "custom_events")
    result = run(*args)
    assert result.code == 0, result.err
    before = result.report["seconds_before_first_request"]
    after = result.report["seconds_after_last_answer"]
    assert before > 0 and after > 0
    assert before + 0.1 + after <= result.report["seconds"] + 0.002
    # nothing left to send: no request, so neither is there
    again = run(*args)
    assert again.report["requests"] == 0
    assert "seconds_before_first_request" not in again.report


ATTRS = ["--mode", "user_track", "--track-record-type", "user_attributes"]


def test_a_null_struct_field_is_omitted_so_no_nested_update_is_voided(box, emu, run):
    # Braze drops every nested update of a request holding one null and answers 201
    box.add_model(
        "books",
        "SELECT 'u' || i AS external_id, "
        "{'title': 'T' || i, 'year': CASE WHEN i = 2 THEN NULL ELSE 2000 + i END} AS book, "
        "{'title': 'T', 'seen': CASE WHEN i = 3 THEN NULL ELSE DATE '2024-01-01' END} AS dated "
        "FROM range(1, 6) t(i)",
    )
    result = run("--model", "books", *ATTRS)
    assert result.code == 0, result.err
    assert emu.store.nested_voided == 0
    books = {a["external_id"]: a for a in emu.store.attributes}
    assert len(books) == 5 and all("book" in a and "dated" in a for a in books.values())
    assert books["u2"]["book"] == {"title": "T2"}
    assert books["u1"]["book"] == {"title": "T1", "year": 2001}
    assert books["u3"]["dated"] == {"title": "T"}
    assert "null" not in json.dumps(emu.store.attributes)


def test_a_null_in_pre_formatted_nested_json_is_omitted(box, emu, run):
    box.add_model(
        "pre_books",
        'SELECT * FROM (VALUES (\'u1\', \'{"title": "T", "year": null, "d": {"x": null}}\'),'
        ' (\'u2\', \'{"title": "U", "year": 1999}\')) t(external_id, book)',
    )
    result = run("--model", "pre_books", *ATTRS, "--pre-formatted-fields", "book")
    assert result.code == 0, result.err
    assert emu.store.nested_voided == 0
    assert sorted(emu.store.attributes, key=lambda a: a["external_id"]) == [
        {"external_id": "u1", "book": {"title": "T", "d": {}}},
        {"external_id": "u2", "book": {"title": "U", "year": 1999}},
    ]


def test_a_null_inside_a_nested_array_makes_the_row_invalid(box, emu, run):
    box.add_model(
        "pre_lists",
        "SELECT * FROM (VALUES ('u1', '{\"list\": [1, null]}'), ('u2', '{\"list\": [1]}'))"
        " t(external_id, obj)",
    )
    result = run("--model", "pre_lists", *ATTRS, "--pre-formatted-fields", "obj")
    assert result.code == 2 and emu.store.requests == 0
    (reject,) = result.report["rejects"]
    assert reject["row_key"] == "external_id=u1" and "null" in reject["reason"]


def test_email_and_phone_without_another_identifier_are_valid(box, emu, run):
    # Braze uses the email then: such rows used to be refused as "more than one identifier"
    box.add_model(
        "email_phone",
        "SELECT 'b@example.com' AS email, '+15551234567' AS phone, 'Bo' AS first_name",
    )
    result = run("--model", "email_phone", *ATTRS)
    assert result.code == 0, result.err
    assert emu.store.attributes == [
        {"email": "b@example.com", "phone": "+15551234567", "first_name": "Bo"}
    ]
    box.add_model(
        "email_phone_events",
        "SELECT 'b@example.com' AS email, '+15551234567' AS phone, 'e' AS name, "
        "TIMESTAMP '2024-05-01 10:00:00' AS time",
    )
    result = run("--model", "email_phone_events", "--mode", "user_track",
                 "--track-record-type", "custom_events")  # fmt: skip
    assert result.code == 0, result.err
    assert [(e["email"], e["phone"]) for e in emu.store.events] == [
        ("b@example.com", "+15551234567")
    ]


@pytest.mark.parametrize("key", ["first name", "a.b", "pri$ce", ""])
def test_nested_key_names_braze_refuses_make_the_row_invalid(box, emu, run, key):
    obj = json.dumps({key: 1}).replace("'", "''")
    box.add_model(
        "bad_keys",
        f"SELECT * FROM (VALUES ('u1', '{obj}'), ('u2', '{{\"ok\": 1}}')) t(external_id, obj)",
    )
    result = run("--model", "bad_keys", *ATTRS, "--pre-formatted-fields", "obj",
                 "--skip-on-invalid-records")  # fmt: skip
    assert result.code == 0, result.err
    assert result.report["skipped_invalid"] == 1 and result.report["sent"] == 1
    assert repr(key) in result.report["rejects"][0]["reason"]
    assert emu.store.attributes == [{"external_id": "u2", "obj": {"ok": 1}}]
    assert emu.store.nested_voided == 0


@pytest.mark.parametrize(
    ("written", "sent"),
    [
        ("2024-05-01 10:00:00", "2024-05-01T10:00:00.000000Z"),
        ("20240501T100000Z", "2024-05-01T10:00:00.000000Z"),
        ("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00.000000Z"),
        ("2024-05-01", "2024-05-01T00:00:00.000000Z"),
    ],
)
def test_text_times_are_sent_as_iso_8601_utc(box, emu, run, written, sent):
    box.add_model("text_times", f"SELECT 'u1' AS external_id, 'e' AS name, '{written}' AS time")
    result = run("--model", "text_times", "--mode", "user_track",
                 "--track-record-type", "custom_events")  # fmt: skip
    assert result.code == 0, result.err
    assert emu.store.events[0]["time"] == sent


def test_alias_rows_without_update_existing_only_false_are_warned_about(box, emu, run):
    # Braze treats alias-identified attribute rows as update-only: they create no profile
    box.add_model(
        "alias_attrs",
        "SELECT * FROM (VALUES ('n1', 'crm', 1, NULL), ('n2', 'crm', 2, FALSE), "
        "('n3', 'crm', 3, TRUE)) t(alias_name, alias_label, score, _update_existing_only)",
    )
    result = run("--model", "alias_attrs", *ATTRS)
    assert result.code == 0, result.err
    assert "2 row(s) identified by an alias" in result.err
    assert "_update_existing_only" in result.err
    # the emulator plays Braze: only the row that said false created a profile
    assert [a["user_alias"]["alias_name"] for a in emu.store.attributes] == ["n2"]
    assert emu.store.attributes_ignored == 2


def test_user_identifying_is_treasure_datas_label_for_identify():
    from braze_currents.exporter.modes import Mode, parse_mode

    assert parse_mode("User - Identifying") is Mode.IDENTIFY
    assert parse_mode("user identifying") is Mode.IDENTIFY


def test_identify_by_email_and_by_phone(box, emu, run):
    box.add_model(
        "identify_mixed",
        """SELECT * FROM (VALUES
            ('u1', 'n1', 'crm', NULL, NULL),
            ('u2', NULL, NULL, 'b@example.com', NULL),
            ('u3', NULL, NULL, NULL, '+15551234567'),
            ('u4', NULL, NULL, 'c@example.com', '+15557654321'),
            (NULL, NULL, NULL, 'd@example.com', NULL)
        ) t(external_id, alias_name, alias_label, email, phone)""",
    )
    result = run("--model", "identify_mixed", "--mode", "User - Identifying",
                 "--skip-on-invalid-records")  # fmt: skip
    assert result.code == 0, result.err
    assert result.report["sent"] == 3 and result.report["skipped_invalid"] == 2
    assert result.report["requests"] == 3  # one array per request
    prioritization = ["unidentified", "most_recently_updated"]  # the default
    assert sorted(emu.store.identified, key=lambda e: e["external_id"]) == [
        {"external_id": "u1", "user_alias": {"alias_name": "n1", "alias_label": "crm"}},
        {"external_id": "u2", "email": "b@example.com", "prioritization": prioritization},
        {"external_id": "u3", "phone": "+15551234567", "prioritization": prioritization},
    ]
    reasons = {r["row_key"]: r["reason"] for r in result.report["rejects"]}
    assert "exactly one of" in reasons["external_id=u4, email=c@example.com, phone=+15557654321"]
    assert "external_id" in reasons["email=d@example.com"]


def test_identify_prioritization_is_a_setting(box, emu, run):
    box.add_model("identify_email", "SELECT 'u2' AS external_id, 'b@example.com' AS email")
    result = run("--model", "identify_email", "--mode", "user_identify",
                 "--identify-prioritization", "identified")  # fmt: skip
    assert result.code == 0, result.err
    assert emu.store.identified == [
        {"external_id": "u2", "email": "b@example.com", "prioritization": ["identified"]}
    ]


def test_subscription_status_groups_users_into_requests_of_one_identifier_kind(box, emu, run):
    box.add_model(
        "subs",
        """SELECT * FROM (VALUES
            ('g1', 'subscribed', 'u1', NULL, NULL),
            ('g1', 'unsubscribed', 'u2', NULL, NULL),
            ('g2', 'subscribed', NULL, 'a@example.com', NULL),
            ('g3', 'subscribed', NULL, NULL, '+15551234567'),
            ('g1', 'maybe', 'u3', NULL, NULL),
            ('g1', 'subscribed', NULL, 'b@example.com', '+15550000000')
        ) t(subscription_group_id, subscription_state, external_id, email, phone)""",
    )
    result = run("--model", "subs", "--mode", "user_subscription_status",
                 "--skip-on-invalid-records")  # fmt: skip
    assert result.code == 0, result.err
    assert result.report["sent"] == 4 and result.report["skipped_invalid"] == 2
    assert result.report["requests"] == 3  # external ids, emails, phones: never mixed
    assert sorted(emu.store.subscriptions) == [
        ("g1", "subscribed", "external_ids", "u1"),
        ("g1", "unsubscribed", "external_ids", "u2"),
        ("g2", "subscribed", "emails", "a@example.com"),
        ("g3", "subscribed", "phones", "+15551234567"),
    ]
    reasons = sorted(r["reason"] for r in result.report["rejects"])
    assert "subscription_state" in reasons[1] or "subscription_state" in reasons[0]
    assert any("exactly one of" in r for r in reasons)


def test_subscription_status_sends_at_most_50_users_a_request(box, emu, run):
    box.add_model(
        "subs_many",
        "SELECT 'g1' AS subscription_group_id, 'subscribed' AS subscription_state, "
        "'u' || i AS external_id, TRUE AS use_double_opt_in_logic FROM range(120) t(i)",
    )
    result = run("--model", "subs_many", "--mode", "Update user's subscription group status")
    assert result.code == 0, result.err
    assert result.report["requests"] == 3 and len(emu.store.subscriptions) == 120


def test_track_bulk_sends_up_to_1000_objects_a_request_with_the_same_ledger(box, emu, run):
    box.add_model("events", events_sql(2500))
    args = ["--model", "events", "--mode", "user_track", "--track-record-type", "custom_events"]
    result = run(*args, "--track-bulk")
    assert result.code == 0, result.err
    assert result.report["endpoint_path"] == "/users/track/bulk"
    assert result.report["requests"] == 3 and emu.store.bulk_requests == 3
    assert len(emu.store.events) == 2500
    again = run(*args)  # the ledger is shared with /users/track: nothing is sent twice
    assert again.report["already_delivered"] == 2500 and again.report["sent"] == 0


def test_track_bulk_keeps_requests_under_2_mb(box, emu, run):
    box.add_model(
        "big_events",
        "SELECT 'u' || i AS external_id, 'e' AS name, TIMESTAMP '2024-05-01' AS time, "
        + ", ".join(f"repeat('{c}', 250) AS p{c}" for c in "abcdefghi")
        + " FROM range(3000) t(i)",
    )
    result = run("--model", "big_events", "--mode", "user_track",
                 "--track-record-type", "custom_events", "--track-bulk")  # fmt: skip
    assert result.code == 0, result.err
    # 1,000 of these rows hold more than 2 MB: the batcher cuts by bytes first
    assert 1_500_000 < emu.store.max_body_bytes <= 2_000_000
    assert result.report["splits"] == 0 and result.report["requests"] > 3
    assert len(emu.store.events) == 3000


def test_track_bulk_needs_its_own_permission(box, emu, run):
    box.add_model("events", events_sql(10))
    emu.config.keys = {emu.config.api_key: {"users.track"}}
    result = run("--model", "events", "--mode", "user_track",
                 "--track-record-type", "custom_events", "--track-bulk")  # fmt: skip
    assert result.code == 3
    assert "permission" in result.report["stopped_reason"]
    assert emu.store.requests == 1


def test_track_bulk_goes_with_user_track_only(box, emu, run):
    box.add_model("deletes", "SELECT 'u1' AS external_id")
    result = run("--model", "deletes", "--mode", "user_delete", "--track-bulk")
    assert result.code == 1 and "--track-bulk" in result.err
