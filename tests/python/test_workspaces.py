"""Real workspaces: `dbt build` is green on any subset of event families, on the single batch
of Braze's Treasure Data guide, and on a warehouse nothing was ever loaded into.

A Currents connector sends only the event types a customer ticked, so most warehouses hold a
few families and many empty models. One small warehouse per case; every case shares the
session's dbt target, so dbt parses the project once."""

from __future__ import annotations

import csv
import json

import pytest
from warehouse_testing import Warehouse, generate

pytestmark = pytest.mark.dbt

FAMILIES = [
    "email",
    "push",
    "sms",
    "inapp",
    "contentcards",
    "canvas",
    "sessions",
    "custom_events",
    "purchases",
    "subscriptions",
]


def build(wh: Warehouse) -> dict:
    """`dbt build` on the warehouse; the status of every node that did not pass. Without the
    unit tests (they read no warehouse) and the per-model primary key tests of the typed
    models (the build's own tests prove them): a third of the nodes, the same parse."""
    wh.path.parent.mkdir(parents=True, exist_ok=True)
    proc = wh.dbt(
        "build",
        "--exclude", "resource_type:unit_test", "test_name:braze_currents__primary_key",
        check=False,
    )  # fmt: skip
    results = json.loads((wh.target / "run_results.json").read_text())["results"]
    failed = {
        r["unique_id"]: (r["status"], (r.get("message") or "")[:300])
        for r in results
        if r["status"] not in ("success", "pass", "warn", "no-op")
    }
    assert proc.returncode == 0 or failed, proc.stdout[-3000:]
    return failed


@pytest.mark.parametrize("family", FAMILIES)
def test_build_is_green_with_one_family(family, tmp_path, dbt_target):
    inputs = tmp_path / f"{family}.ndjson"
    stats = generate(
        inputs, "--families", family, "--events", "60", "--users", "8", "--days", "2",
        "--seed", "3", "--duplicate-rate", "0.05",
    )  # fmt: skip
    wh = Warehouse(tmp_path / "w" / "currents.duckdb", dbt_target)
    wh.load(inputs)
    assert build(wh) == {}
    rows = wh.scalar("select count(*) from staging.stg_braze_currents__events")
    assert rows == stats["distinct_events"] == 60


def td_guide_batch(path):
    """One Treasure Data row as Braze's guide prints it: the `events` field holds the batch's
    JSON array as text, next to the row's `time`. Our own event, in that shape."""
    events = [
        {
            "event_type": "users.messages.email.Open",
            "id": "a1b2c3d4-0000-4000-8000-00000000e001",
            "time": 1477502783,
            "user": {"user_id": "5a0b0c0d0e0f000102030405", "external_user_id": "user_1"},
            "properties": {
                "campaign_id": "c0ffee00-0000-4000-8000-000000000001",
                "campaign_name": "Welcome",
                "message_variation_id": "c0ffee00-0000-4000-8000-000000000002",
                "email_address": "user_1@example.com",
                "send_id": "s-1",
            },
        }
    ]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", "events"])
        writer.writerow([1477502790, json.dumps(events)])
    return path


def test_build_is_green_on_the_treasure_data_guide_batch(tmp_path, dbt_target):
    wh = Warehouse(tmp_path / "w" / "currents.duckdb", dbt_target)
    wh.load(td_guide_batch(tmp_path / "td_export.csv"))
    assert build(wh) == {}
    assert wh.query("select channel, action, campaign_id from marts.fct_message_engagement") == [
        ("email", "open", "c0ffee00-0000-4000-8000-000000000001")
    ]


def test_build_is_green_before_the_first_load(tmp_path, dbt_target):
    """What a CI job building before its first load needs: the raw tables are created empty,
    and every model builds, empty."""
    wh = Warehouse(tmp_path / "w" / "currents.duckdb", dbt_target)
    assert build(wh) == {}
    assert wh.scalar("select count(*) from staging.stg_braze_currents__events") == 0
    assert wh.scalar("select count(*) from marts.fct_message_engagement") == 0
    # The loader then loads into the tables dbt created, and a second build sees its events.
    inputs = tmp_path / "first.ndjson"
    stats = generate(inputs, "--events", "40", "--users", "5", "--days", "1", "--seed", "2")
    wh.load(inputs)
    assert build(wh) == {}
    rows = wh.scalar("select count(*) from staging.stg_braze_currents__events")
    assert rows == stats["distinct_events"]


def test_dbt_creates_the_raw_tables_exactly_as_the_loader_does(tmp_path, dbt_target):
    """The raw tables dbt creates before the first load are the loader's own (same columns,
    types, nullability), so the loader can write into them."""
    import duckdb

    from braze_currents.warehouse import ensure_raw_schema

    by_dbt = Warehouse(tmp_path / "dbt" / "currents.duckdb", dbt_target)
    by_dbt.path.parent.mkdir()
    by_dbt.dbt("run", "--select", "stg_braze_currents__batches")
    loader_db = tmp_path / "loader.duckdb"
    con = duckdb.connect(str(loader_db))
    ensure_raw_schema(con)
    con.close()
    describe = (
        "select table_name, column_name, data_type, is_nullable, ordinal_position "
        "from information_schema.columns where table_schema = 'raw' order by all"
    )
    loader_columns = Warehouse(loader_db, dbt_target).query(describe)
    assert loader_columns
    assert by_dbt.query(describe) == loader_columns


def test_build_types_both_envelopes_alike(tmp_path, dbt_target):
    """Custom events and purchases, each event in the Custom HTTP or the flat (storage)
    envelope: every typed column the generator fills is filled, whichever the envelope."""
    inputs = tmp_path / "mixed.ndjson"
    stats = generate(
        inputs, "--families", "custom_events,purchases", "--envelope", "mixed",
        "--events", "120", "--users", "8", "--days", "2", "--seed", "4",
    )  # fmt: skip
    assert stats["envelopes"]["flat"] > 0 and stats["envelopes"]["http"] > 0
    wh = Warehouse(tmp_path / "w" / "currents.duckdb", dbt_target)
    wh.load(inputs)
    assert build(wh) == {}
    purchases = wh.query(
        "select count(*), count(product_id), count(price), count(currency), count(braze_id) "
        "from staging.stg_braze_currents__purchases"
    )[0]
    assert purchases[0] > 1 and set(purchases) == {purchases[0]}
    custom = wh.query(
        "select count(*), count(name), count(app_id), count(braze_id) "
        "from staging.stg_braze_currents__custom_events"
    )[0]
    assert custom[0] > 1 and set(custom) == {custom[0]}
    # Custom properties, from the object or the JSON text, wherever the event had some.
    with_props = wh.scalar(
        "select count(*) from staging.stg_braze_currents__custom_events "
        "where custom_properties->>'screen' is not null"
    )
    assert with_props >= custom[0] - 1  # the catalogue sweep's one event has none
    facts = wh.query("select count(*), count(price), count(currency) from marts.fct_purchases")
    assert facts == [(purchases[0],) * 3]


# Marts that do not split by workspace yet, each with its reason (as beside the model).
NOT_PER_WORKSPACE = {
    # Keyed by external_user_id (a Braze user of one workspace is a user of the brand); the
    # exporter sends it to the one workspace of its API key.
    "dim_users": "keyed by external_user_id",
    "export_braze_user_attributes": "what the exporter sends to one workspace",
    "metricflow_time_spine": "one row per day, no events",
}
# What differs between the two copies of one workspace: its id, and the ids of its events and
# users (and the keys made of them: fct_message_sends' entity_bucket is a bucket of braze_id),
# and the lateness (the copies are loaded apart).
COPY_COLUMNS = {
    "app_group_id", "event_id", "braze_id", "send_key", "user_message_key", "entity_bucket",
}  # fmt: skip


def second_workspace(source, target, app_group_id: str) -> None:
    """The events of `source` again in another workspace: same campaigns, Canvases, steps,
    sessions and external ids, new event ids and Braze user ids (those are per workspace)."""
    import uuid

    with open(source, encoding="utf-8") as src, open(target, "w", encoding="utf-8") as out:
        for line in src:
            record = json.loads(line)
            for event in record["events"]:
                event["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, event["id"]))
                user = event.get("user", event)
                if "user_id" in user:
                    user["user_id"] = user["user_id"][::-1]
                for holder in (event, event.get("properties") or {}):
                    if "app_group_id" in holder:
                        holder["app_group_id"] = app_group_id
            out.write(json.dumps(record) + "\n")


def test_two_workspaces_with_the_same_campaigns_never_mix(tmp_path, dbt_target):
    first = tmp_path / "first.ndjson"
    generate(
        first, "--events", "1500", "--users", "20", "--days", "2", "--seed", "11",
        "--duplicate-rate", "0",
    )  # fmt: skip
    other = "00000000-0000-4000-8000-0000000000b2"
    second_workspace(first, tmp_path / "second.ndjson", other)
    wh = Warehouse(tmp_path / "w" / "currents.duckdb", dbt_target)
    # One workspace, then the other, as two connectors' batches arrive: the second build is
    # incremental and must fold nothing of the second into the first (shared session ids).
    wh.load(first)
    assert build(wh) == {}
    wh.load(tmp_path / "second.ndjson")
    assert build(wh) == {}
    [ours] = wh.query(
        "select distinct app_group_id from marts.fct_message_engagement "
        "where app_group_id is not null and app_group_id <> ?",
        [other],
    )
    ours = ours[0]
    marts = [
        t
        for (t,) in wh.query(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    ]
    assert set(NOT_PER_WORKSPACE) <= set(marts)
    for mart in sorted(set(marts) - set(NOT_PER_WORKSPACE)):
        columns = [
            c
            for (c,) in wh.query(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [mart],
            )
        ]
        assert "app_group_id" in columns, mart
        kept = ", ".join(
            f'"{c}"'
            for c in columns
            if c not in COPY_COLUMNS and c != "loaded_at" and "lateness" not in c
        )
        per_workspace = (
            f"select {kept} from marts.{mart} where app_group_id = ? "
            f"except all select {kept} from marts.{mart} where app_group_id = ?"
        )
        rows = wh.scalar(f"select count(*) from marts.{mart} where app_group_id = ?", [ours])
        assert rows > 0, mart
        # Each workspace's rows are exactly what the other's are: nothing summed across them.
        assert wh.query(per_workspace, [ours, other]) == [], mart
        assert wh.query(per_workspace, [other, ours]) == [], mart
