"""The project's catalogue (the typed models' yml) is complete and consistent."""

from __future__ import annotations

import re

import yaml

from braze_currents.catalog import CATALOG_PATH, ENVELOPE_COLUMNS, STAGING_DIR, load_catalog

TYPES = {"varchar", "bigint", "double", "boolean", "json", "timestamp"}


def test_catalogue_covers_every_event_type_once():
    catalog = load_catalog()
    assert len(catalog) == 102  # 97 types Braze sends, 5 it has retired
    assert len({e.event_type for e in catalog}) == 102
    assert len({e.model for e in catalog}) == 102
    assert all(re.fullmatch(r"stg_braze_currents__[a-z0-9_]+s", e.model) for e in catalog)


def test_every_catalogued_model_has_its_sql_and_every_sql_its_entry():
    sql = {p.stem for p in (CATALOG_PATH.parent).glob("*.sql")}
    assert sql == {e.model for e in load_catalog()}
    for e in load_catalog():
        text = (CATALOG_PATH.parent / f"{e.model}.sql").read_text().strip()
        assert text == "{{ braze_currents__typed_event() }}"


def test_columns_are_typed_described_and_unique():
    doc = yaml.safe_load(CATALOG_PATH.read_text())
    docs = (STAGING_DIR / "_braze_currents__docs.md").read_text()
    blocks = set(re.findall(r"{% docs (\w+) %}", docs))
    for model in doc["models"]:
        names = [c["name"] for c in model["columns"]]
        assert len(names) == len(set(names)), model["name"]
        assert names[:3] == ["event_id", "event_type", "event_at"]
        for c in model["columns"]:
            assert c["data_type"] in TYPES, (model["name"], c["name"])
            block = re.fullmatch(r"\{\{ doc\('(\w+)'\) \}\}", c["description"])
            assert block and block.group(1) in blocks, (model["name"], c["name"])


def test_envelope_and_companion_columns():
    email_open = {e.event_type: e for e in load_catalog()}["users.messages.email.Open"]
    assert {"event_id", "external_user_id", "braze_id", "properties"} <= set(email_open.envelope)
    by_name = {f.name: f for f in email_open.fields}
    assert by_name["is_machine_open"].json_key == "machine_open"
    assert by_name["is_machine_open"].data_type == "boolean"
    assert not set(by_name) & set(ENVELOPE_COLUMNS)
    flat = {e.event_type for e in load_catalog() if e.flat}
    assert flat == {
        "users.profile.Update",
        "users.RandomBucketNumberUpdate",
        "users.UserDeleteRequest",
        "users.UserOrphan",
    }


# The fields of the types Braze has retired, as their last published storage schemas list
# them (envelope fields aside).
RETIRED = {
    "users.behaviors.app.NewsFeedImpression": {"app_id", "platform", "os_version",
                                               "device_model"},
    "users.campaigns.Abort": {"abort_log", "abort_type", "app_group_id", "campaign_id",
                              "campaign_name", "canvas_id", "dispatch_id",
                              "message_variation_id", "message_variation_name", "send_id"},
    "users.canvas.Abort": {"abort_log", "abort_type", "app_group_id", "canvas_id",
                           "canvas_name", "canvas_step_id", "canvas_step_message_variation_id",
                           "canvas_step_name", "canvas_variation_id", "canvas_variation_name"},
    "users.behaviors.UpgradedApp": {"app_group_id", "app_group_api_id", "app_id", "app_api_id",
                                    "sdk_version", "platform", "os_version", "device_model",
                                    "old_app_version", "new_app_version"},
    "users.messages.pushnotification.InfluencedOpen": {
        "app_group_id", "app_group_api_id", "app_id", "app_api_id", "dispatch_id", "send_id",
        "campaign_id", "message_variation_id", "campaign_api_id", "message_variation_api_id",
        "canvas_id", "canvas_variation_id", "canvas_step_id",
        "canvas_step_message_variation_id", "canvas_api_id", "canvas_variation_api_id",
        "canvas_step_api_id", "canvas_step_message_variation_api_id", "gender", "country",
        "language", "string_custom_attributes", "boolean_custom_attributes",
        "time_custom_attributes", "float_custom_attributes", "number_custom_attributes",
        "sdk_version", "platform", "os_version", "device_model", "resolution", "carrier",
        "browser"},
}  # fmt: skip


def test_retired_types_are_catalogued_with_their_fields():
    retired = {e.event_type: e for e in load_catalog() if e.retired}
    assert set(retired) == set(RETIRED)
    for event_type, fields in RETIRED.items():
        assert {f.name for f in retired[event_type].fields} == fields, event_type
    upgraded = {f.name: f.data_type for f in retired["users.behaviors.UpgradedApp"].fields}
    assert upgraded["old_app_version"] == "varchar"
    influenced = {
        f.name: f.data_type
        for f in retired["users.messages.pushnotification.InfluencedOpen"].fields
    }
    assert influenced["number_custom_attributes"] == "json"


def test_every_type_lists_its_workspace_read_from_the_stream_where_braze_sends_none():
    doc = yaml.safe_load(CATALOG_PATH.read_text())
    catalog = {e.model: e for e in load_catalog()}
    from_stream = set()
    for model in doc["models"]:
        columns = {c["name"]: c for c in model["columns"]}
        assert "app_group_id" in columns, model["name"]
        if (columns["app_group_id"].get("meta") or {}).get("from_stream"):
            from_stream.add(model["name"])
            # not a key of the type's payload: neither a field nor generated
            assert "app_group_id" in catalog[model["name"]].envelope
            assert "app_group_id" not in {f.name for f in catalog[model["name"]].fields}
    assert from_stream == {
        "stg_braze_currents__agent_executions",
        "stg_braze_currents__agent_tool_invocations",
        "stg_braze_currents__canvas_experiment_step_conversions",
        "stg_braze_currents__canvas_experiment_step_split_entries",
        "stg_braze_currents__news_feed_card_clicks",
        "stg_braze_currents__news_feed_card_impressions",
        "stg_braze_currents__news_feed_impressions",
    }
