"""The marts: every message event of every channel, one row per user, untidy data counted
where it belongs, incremental runs equal to a full refresh, and the analyst's guide runs."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest
from warehouse_testing import Warehouse, generate

from braze_currents.config import PROJECT_ROOT

pytestmark = pytest.mark.dbt

GUIDE = PROJECT_ROOT / "docs" / "analyst-guide.md"


def snake_case(action: str) -> str:
    """`MarkAsSpam` -> `mark_as_spam`, written independently of the SQL macro."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", action)
    return "_".join(w.lower() for w in words)


def test_snake_case_reference():
    assert snake_case("MarkAsSpam") == "mark_as_spam"
    assert snake_case("IosForeground") == "ios_foreground"
    assert snake_case("SMSDelivery") == "sms_delivery"


def test_every_message_event_of_every_channel_once(built_warehouse):
    wh, by_type = built_warehouse, built_warehouse.stats["events_by_type"]
    expected = Counter()
    for event_type, n in by_type.items():
        if event_type.startswith("users.messages."):
            parts = event_type.split(".")
            expected[(parts[2], snake_case(parts[-1]))] += n
    got = {
        (channel, action): n
        for channel, action, n in wh.query(
            "select channel, action, count(*) from marts.fct_message_engagement group by all"
        )
    }
    assert got == dict(expected)
    assert ("carrierpigeon", "send") in got  # a channel no catalogue knows
    assert ("email", "mark_as_spam") in got and ("email", "soft_bounce") in got
    rows, ids = wh.query(
        "select count(*), count(distinct event_id) from marts.fct_message_engagement"
    )[0]
    assert rows == ids == sum(expected.values())
    # Machine opens are told apart on email opens, and only there.
    opens = dict(
        wh.query(
            "select coalesce(is_machine_open::varchar, 'null'), count(*) "
            "from marts.fct_message_engagement where channel = 'email' and action = 'open' "
            "group by all"
        )
    )
    assert opens.get("true", 0) > 0 and opens.get("false", 0) > 0
    elsewhere = wh.scalar(
        "select count(*) from marts.fct_message_engagement "
        "where is_machine_open is not null and not (channel = 'email' and action = 'open')"
    )
    assert elsewhere == 0


def test_one_row_per_external_user_with_revenue_per_currency(built_warehouse):
    wh = built_warehouse
    users, distinct = wh.query(
        "select (select count(*) from marts.dim_users), "
        "(select count(distinct external_user_id) from staging.stg_braze_currents__events)"
    )[0]
    assert users == distinct > 0
    revenue = {
        (user, currency): round(total, 6)
        for user, currency, total in wh.query(
            "select external_user_id, coalesce(currency, 'unknown'), sum(price) "
            "from marts.fct_purchases where external_user_id is not null and price is not null "
            "group by all"
        )
    }
    in_dim = {
        (user, currency): round(total, 6)
        for user, currency, total in wh.query(
            "select external_user_id, e.key, e.value from marts.dim_users, "
            "unnest(map_entries(revenue_by_currency)) as t(e) where e.value is not null"
        )
    }
    assert in_dim == revenue and len({c for _, c in revenue}) > 1


def untidy_batch() -> str:
    """Events a real stream has: an open whose send never came, a session end without its
    start, a purchase in a currency seen once, a price that is not a number, a conversion
    with no message before it."""

    def event(n: int, event_type: str, t: int, **properties) -> dict:
        return {
            "event_type": event_type,
            "id": f"untidy-{n}",
            "time": t,
            "user": {"user_id": "untidy-braze-id", "external_user_id": "untidy_user"},
            "properties": properties,
        }

    t = 1_791_000_000  # 2026-10-03 (UTC)
    events = [
        event(1, "users.messages.email.Open", t, campaign_id="untidy-campaign",
              message_variation_id="v", dispatch_id="d", machine_open="false"),
        event(2, "users.behaviors.app.SessionEnd", t, session_id="untidy-session",
              duration=42.0),
        event(3, "users.behaviors.Purchase", t, product_id="sku", currency="isk",
              price=990.0),
        event(4, "users.behaviors.Purchase", t, product_id="sku", currency="USD",
              price="abc"),
        event(5, "users.campaigns.Conversion", t, campaign_id="untidy-campaign-2",
              message_variation_id="v"),
        # A custom event of an unknown user: no users to divide by.
        {**event(6, "users.behaviors.CustomEvent", t, name="untidy-anonymous"), "user": {}},
        # Conversions 4 days after an email (inside its 5-day window) and 2 days after an SMS
        # (outside its 1-day window).
        event(7, "users.messages.email.Send", t, campaign_id="attr-email",
              message_variation_id="v", dispatch_id="d-email"),
        event(8, "users.campaigns.Conversion", t + 4 * 86400, campaign_id="attr-email",
              message_variation_id="v"),
        event(9, "users.messages.sms.Send", t, campaign_id="attr-sms",
              message_variation_id="v", dispatch_id="d-sms"),
        event(10, "users.campaigns.Conversion", t + 2 * 86400, campaign_id="attr-sms",
              message_variation_id="v"),
    ]  # fmt: skip
    return json.dumps({"events": events}) + "\n"


def mart_rows(wh: Warehouse) -> dict[str, list]:
    """Every mart's rows, floats rounded (sums in another order differ in the last bits)."""

    def tidy(value):
        if isinstance(value, float):
            return None if math.isnan(value) else round(value, 6)
        if isinstance(value, dict):
            return {k: tidy(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(tidy(v) for v in value)
        return value

    marts = [
        name
        for (name,) in wh.query(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    ]
    return {
        name: sorted((tidy(row) for row in wh.query(f"select * from marts.{name}")), key=repr)
        for name in marts
    }


def test_incremental_runs_equal_a_full_refresh(tmp_path, dbt_target):
    day1, day2 = tmp_path / "day1.ndjson", tmp_path / "day2.ndjson"
    common = ["--users", "40", "--seed", "11", "--duplicate-rate", "0.1",
              "--unknown-type-rate", "0.01", "--drift-rate", "0.02"]  # fmt: skip
    generate(day1, "--events", "1500", *common)
    # Day 2 re-delivers day 1 in other batches (same seed), then goes on: sessions, funnels
    # and users cut off by day 1's end continue in it.
    generate(day2, "--events", "3000", "--batch-size", "70", *common)
    untidy = tmp_path / "untidy.ndjson"
    untidy.write_text(untidy_batch())

    wh = Warehouse(tmp_path / "w" / "currents.duckdb", dbt_target)
    wh.load(day1)
    wh.dbt("seed")  # `dbt run` builds no seed (`dbt build` does)
    wh.dbt("run", "--select", "+marts", "+exports")
    wh.load(day2, untidy)  # two loads, read by one run
    wh.dbt("run", "--select", "stg_braze_currents__events", "marts", "exports")
    incremental = mart_rows(wh)

    wh.dbt("run", "--select", "marts", "exports")  # nothing new: nothing changes
    assert mart_rows(wh) == incremental

    wh.dbt("run", "--full-refresh", "--select", "marts", "exports")
    full = mart_rows(wh)
    assert set(full) == set(incremental) and len(full) >= 14
    for name in sorted(full):
        assert incremental[name] == full[name], name
        assert full[name], name

    # The untidy events count where they belong.
    q = wh.query
    infinite = [
        (name, row) for name, rows in full.items() for row in rows
        if any(isinstance(v, float) and math.isinf(v) for v in row)
    ]  # fmt: skip
    assert not infinite, "a ratio divided by 0 is NULL, never inf"
    assert q(
        "select events, users, events_per_user from marts.agg_custom_events_daily "
        "where event_name = 'untidy-anonymous'"
    ) == [(1, 0, None)]
    assert q(
        "select sends, opens, unique_openers, unique_human_openers from "
        "marts.agg_message_performance_daily where campaign_id = 'untidy-campaign'"
    ) == [(0, 1, 1, 1)]
    assert q(
        "select channel, conversions from marts.agg_message_performance_daily "
        "where campaign_id = 'untidy-campaign-2'"
    ) == [(None, 1)]
    assert q(
        "select started_at, is_paired, duration_seconds from marts.fct_sessions "
        "where session_id = 'untidy-session'"
    ) == [(None, False, 42.0)]
    assert q(
        "select currency, purchases, revenue from marts.agg_purchases_daily "
        "where product_id = 'sku' order by currency"
    ) == [("ISK", 1, 990.0), ("USD", 1, None)]
    assert q(
        "select revenue_by_currency, purchase_count from marts.dim_users "
        "where external_user_id = 'untidy_user'"
    ) == [({"ISK": 990.0, "USD": None}, 2)]
    # Conversions are credited within the channel's attribution window only, and counted
    # either way in the daily mart.
    assert q(
        "select campaign_id, is_sent, is_converted, conversions, attribution_window_days "
        "from marts.fct_message_sends where campaign_id like 'attr-%' order by 1"
    ) == [("attr-email", True, True, 1, 5), ("attr-sms", True, False, 0, 1)]
    assert q(
        "select campaign_id, channel, sum(conversions) from marts.agg_message_performance_daily "
        "where campaign_id like 'attr-%' and conversions > 0 group by all order by 1"
    ) == [("attr-email", "email", 1), ("attr-sms", "sms", 1)]
    assert q(  # Braze gets no null amount
        "select lifetime_revenue_by_currency from marts.export_braze_user_attributes "
        "where external_id = 'untidy_user'"
    ) == [({"ISK": 990.0},)]


def compiled_sql(wh: Warehouse, mart: str) -> str:
    """The SELECT dbt compiled for `mart` in its last run."""
    path = wh.target / "compiled" / "braze_currents" / "models" / "marts" / f"{mart}.sql"
    return path.read_text()


def test_an_incremental_run_reads_only_loads_newer_than_each_mart_holds(tmp_path, dbt_target):
    """An aggregated row records only the newest load it summarises. Two loads whose events
    fall on the same days, of the same users, leave the older one in no row of the daily marts
    or of dim_users; the next run must still read only the load that came after them, not
    rebuild every day and every user of the older one."""
    first = tmp_path / "l1.ndjson"
    generate(first, "--events", "1500", "--users", "30", "--days", "2", "--seed", "5")
    # L2: every event of L1 again under another id, so each row summarises both loads.
    second = tmp_path / "l2.ndjson"
    bodies = [json.loads(text) for text in first.read_text().splitlines()]
    for b in bodies:
        b["events"] = [{**e, "id": e["id"] + "-again"} for e in b["events"]]
    second.write_text("".join(json.dumps(b) + "\n" for b in bodies))
    later = tmp_path / "l3.ndjson"
    generate(later, "--events", "300", "--users", "30", "--days", "1", "--start", "2026-10-20",
             "--seed", "6")  # fmt: skip

    wh = Warehouse(tmp_path / "w" / "currents.duckdb", dbt_target)
    wh.load(first, second)  # two loads
    wh.dbt("seed")  # `dbt run` builds no seed (`dbt build` does)
    wh.dbt("run", "--select", "+marts", "+exports")
    wh.load(later)
    wh.dbt("run", "--select", "stg_braze_currents__events", "marts", "exports")
    l1, l2, l3 = (at for (at,) in wh.query("select loaded_at from raw.currents_loads order by 1"))

    def days(*loads) -> set[str]:
        return {
            day
            for (day,) in wh.query(
                "select distinct event_at::date::varchar from staging.stg_braze_currents__events "
                "where list_contains(?::timestamp[], loaded_at)",
                [list(loads)],
            )
        }

    assert days(l3) and not days(l3) & days(l1, l2)
    # The daily mart rebuilt the days of L3 only (one predicate, on its messages and conversions).
    sql = compiled_sql(wh, "agg_message_performance_daily")
    [rebuilt] = set(re.findall(r"cast\(event_at as date\) in \(([^)]*)\)", sql))
    assert set(re.findall(r"'([^']*)'", rebuilt)) == days(l3)
    # dim_users rebuilt the users of L3 only: its predicate on the event stream selects L3.
    touched = re.search(
        r"touched_users as \(.*?where (.*?) and external_user_id is not null",
        compiled_sql(wh, "dim_users"),
        re.S,
    ).group(1)
    read = wh.query(
        f"select distinct loaded_at from staging.stg_braze_currents__events where {touched}"
    )
    assert read == [(l3,)]

    incremental = mart_rows(wh)
    wh.dbt("run", "--full-refresh", "--select", "marts", "exports")
    full = mart_rows(wh)
    assert set(full) == set(incremental)
    for name in sorted(full):
        assert incremental[name] == full[name], name


def guide_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", GUIDE.read_text(), re.S)


def test_the_guide_answers_every_question():
    text = GUIDE.read_text()
    for n in range(1, 7):
        assert re.search(rf"^## {n}\. ", text, re.M), f"question {n}"
    assert len(guide_queries()) >= 12


@pytest.mark.parametrize("n", range(len(guide_queries())))
def test_guide_queries_return_rows(built_warehouse, n):
    sql = guide_queries()[n]
    assert built_warehouse.query(sql), sql


def test_the_export_mart_is_shaped_for_user_attributes(built_warehouse):
    wh = built_warehouse
    columns = [
        name
        for (name,) in wh.query(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'export_braze_user_attributes' "
            "order by ordinal_position"
        )
    ]
    assert columns[0] == "external_id" and "_update_existing_only" in columns
    identifiers = {"braze_id", "alias_name", "alias_label", "email", "phone"}
    assert not identifiers & set(columns)  # one identifier: every other column is an attribute
    users, missing = wh.query(
        "select count(*), count(*) filter (where external_id is null) "
        "from marts.export_braze_user_attributes"
    )[0]
    assert users == wh.scalar("select count(*) from marts.dim_users") and missing == 0
    manifest = json.loads(Path(wh.target, "manifest.json").read_text())
    exposure = manifest["exposures"]["exposure.braze_currents.braze_user_attributes_export"]
    assert exposure["type"] == "application"
    assert exposure["depends_on"]["nodes"] == ["model.braze_currents.export_braze_user_attributes"]
    # What leaves for Braze is public, with a contract dbt enforces on every build.
    node = manifest["nodes"]["model.braze_currents.export_braze_user_attributes"]
    assert node["access"] == "public" and node["contract"]["enforced"]
    assert node["original_file_path"].startswith("models/exports/")
    assert all(column["data_type"] for column in node["columns"].values())


def test_a_rate_the_channel_cannot_have_is_null(built_warehouse):
    """Currents reports no delivery for push, Content Cards or webhooks, and no open for SMS,
    RCS or WhatsApp: those rates are NULL, not 0; the channels that have them get a number."""
    wh = built_warehouse
    rates = {
        (channel, rate): (nulls, values)
        for channel, rate, nulls, values in wh.query(
            """
            with m as (
                select * from marts.agg_message_performance_daily
                where sends > 0 or impressions > 0
            )
            select channel, rate, count(*) filter (where v is null),
                   count(*) filter (where v is not null)
            from (
                select channel, 'delivery_rate' as rate, delivery_rate as v from m
                union all select channel, 'unique_open_rate', unique_open_rate from m
                union all select channel, 'read_rate', read_rate from m
                union all select channel, 'unique_click_rate', unique_click_rate from m
                union all select channel, 'hard_bounce_rate', hard_bounce_rate from m
            )
            group by all
            """
        )
    }
    for channel in ("pushnotification", "contentcard", "webhook", "inappmessage"):
        assert rates[(channel, "delivery_rate")][1] == 0, channel
        assert rates[(channel, "delivery_rate")][0] > 0, channel
    for channel in ("sms", "rcs", "whatsapp", "webhook"):
        assert rates[(channel, "unique_open_rate")][1] == 0, channel
    for channel in ("email", "sms", "rcs", "whatsapp"):
        assert rates[(channel, "delivery_rate")][1] > 0, channel
    for channel in ("email", "pushnotification"):
        assert rates[(channel, "unique_open_rate")][1] > 0, channel
    for channel in ("rcs", "whatsapp"):
        assert rates[(channel, "read_rate")][1] > 0, channel
    assert rates[("email", "read_rate")][1] == 0
    assert rates[("webhook", "unique_click_rate")][1] == 0
    assert rates[("pushnotification", "hard_bounce_rate")][1] > 0
    assert rates[("sms", "hard_bounce_rate")][1] == 0
