"""The project's catalogue (the typed models' yml) is complete and consistent."""

from __future__ import annotations

import re

import yaml

from braze_currents.catalog import CATALOG_PATH, ENVELOPE_COLUMNS, STAGING_DIR, load_catalog

TYPES = {"varchar", "bigint", "double", "boolean", "json", "timestamp"}


def test_catalogue_covers_every_event_type_once():
    catalog = load_catalog()
    assert len(catalog) == 97
    assert len({e.event_type for e in catalog}) == 97
    assert len({e.model for e in catalog}) == 97
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
