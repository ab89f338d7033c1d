"""The marts analysts start and end with: names, one row per message sent, lifetime roll-ups,
recent engagement and lateness, each checked against the events they come from."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pytest
from test_marts import guide_queries

pytestmark = pytest.mark.dbt


def test_dimensions_hold_each_latest_name_once(built_warehouse):
    wh = built_warehouse
    # The latest name of each campaign, computed here from the typed events that carry one.
    observations = wh.query(
        "select campaign_id, campaign_name, event_at from staging.stg_braze_currents__events e "
        "join (select event_id, campaign_id, campaign_name "
        "      from marts.fct_message_engagement where campaign_id is not null "
        "      union all select event_id, campaign_id, campaign_name "
        "      from staging.stg_braze_currents__campaign_conversions) c using (event_id)"
    )
    latest: dict[str, tuple] = {}
    for campaign, name, at in observations:
        if (
            campaign is not None
            and name is not None
            and (campaign not in latest or (at, name) > latest[campaign])
        ):
            latest[campaign] = (at, name)
    dim = dict(wh.query("select campaign_id, campaign_name from marts.dim_campaigns"))
    assert set(dim) == {campaign for campaign, _, _ in observations if campaign is not None}
    assert {c: n for c, n in dim.items() if n is not None} == {
        c: name for c, (_, name) in latest.items()
    }
    assert len(dim) > 5
    # Every id of the facts is in its dimension: one join gives the name.
    for fact, dim_name, keys in [
        ("fct_message_engagement", "dim_campaigns", ["campaign_id"]),
        ("fct_message_engagement", "dim_message_variations",
         ["campaign_id", "message_variation_id"]),
        ("fct_message_engagement", "dim_canvas_steps", ["canvas_id", "canvas_step_id"]),
        ("fct_canvas_journey_events", "dim_canvas_variations",
         ["canvas_id", "canvas_variation_id"]),
        ("agg_message_performance_daily", "dim_canvases", ["canvas_id"]),
    ]:  # fmt: skip
        on = " and ".join(f"f.{k} = d.{k}" for k in keys)
        missing = wh.scalar(
            f"select count(*) from marts.{fact} f anti join marts.{dim_name} d on {on} "
            f"where f.{keys[-1]} is not null"
        )
        assert missing == 0, (fact, dim_name)


def test_steps_are_ordered_as_users_reach_them(built_warehouse):
    # The generator names the steps of each Canvas "Step 1", "Step 2", ... in the order users
    # go through them; Currents carries no order, the mart derives it from the journeys.
    rows = built_warehouse.query(
        "select canvas_id, canvas_step_name, step_order from marts.dim_canvas_steps"
    )
    assert len({c for c, _, _ in rows}) > 2
    for _, name, order in rows:
        assert name == f"Step {order}"


def test_one_row_per_message_sent_holds_every_message_event(built_warehouse):
    wh = built_warehouse
    events, in_sends = wh.query(
        "select (select count(*) from marts.fct_message_engagement), "
        "(select sum(events) from marts.fct_message_sends)"
    )[0]
    assert events == in_sends > 0
    # The flags, against the events grouped here by user, message and dispatch.
    expected = Counter()
    for action, n in wh.query(
        "select action, count(*) from (select distinct braze_id, channel, campaign_id, "
        "message_variation_id, canvas_id, canvas_variation_id, canvas_step_id, "
        "coalesce(dispatch_id, send_id), action from marts.fct_message_engagement) group by 1"
    ):
        expected[action] = n
    got = wh.query(
        "select count(*) filter (where is_sent), count(*) filter (where is_delivered), "
        "count(*) filter (where is_opened), count(*) filter (where is_bounced), "
        "count(*) filter (where is_unsubscribed) from marts.fct_message_sends"
    )[0]
    assert got == tuple(expected[a] for a in ("send", "delivery", "open", "bounce", "unsubscribe"))
    assert expected["open"] > 0 and expected["bounce"] > 0
    # Credited conversions come from the conversions, within the window, never more.
    credited, conversions = wh.query(
        "select (select sum(conversions) from marts.fct_message_sends), "
        "(select count(*) from staging.stg_braze_currents__campaign_conversions) "
        "+ (select count(*) from staging.stg_braze_currents__canvas_conversions)"
    )[0]
    assert 0 < credited <= conversions


def test_lifetime_rollups_add_up_to_the_messages(built_warehouse):
    wh = built_warehouse
    by_campaign = wh.query(
        "select sum(messages), sum(opened), sum(converted) from marts.agg_campaign_performance"
    )[0]
    from_sends = wh.query(
        "select count(*), count(*) filter (where is_opened), count(*) filter (where is_converted) "
        "from marts.fct_message_sends where campaign_id is not null"
    )[0]
    assert by_campaign == from_sends and by_campaign[0] > 0
    named = wh.scalar(
        "select count(*) filter (where campaign_name is null) from marts.agg_campaign_performance"
    )
    assert named == 0
    steps = wh.scalar(
        "select sum(messages) from marts.agg_canvas_step_performance where step_order is not null"
    )
    assert steps == wh.scalar(
        "select count(*) from marts.fct_message_sends "
        "where canvas_id is not null and canvas_step_id is not null"
    )


def test_recent_engagement_counts_back_from_the_newest_event(built_warehouse):
    wh = built_warehouse
    as_of = wh.scalar("select max(event_at) from staging.stg_braze_currents__events")
    rows = wh.query(
        "select braze_id, channel, action, event_at, coalesce(is_machine_open, false) "
        "from marts.fct_message_engagement where braze_id is not null"
    )
    engaging = {"open", "click", "short_link_click", "read", "inbound_receive"}
    expected: dict[int, Counter] = defaultdict(Counter)
    for braze_id, channel, action, at, machine in rows:
        age = as_of - at
        for days in (7, 30, 90):
            if action in engaging and not machine and age.total_seconds() < days * 86400:
                expected[days][(braze_id, channel)] += 1
    for days in (7, 30, 90):
        got = {
            (b, c): n
            for b, c, n in wh.query(
                f"select braze_id, channel, engagements_{days}d "
                f"from marts.agg_user_engagement_recent where engagements_{days}d > 0"
            )
        }
        assert got == dict(expected[days]), days
    assert expected[7] and sum(expected[7].values()) < sum(expected[90].values())
    assert wh.query("select distinct as_of from marts.agg_user_engagement_recent") == [(as_of,)]


def test_lateness_accounts_for_every_event(built_warehouse):
    wh = built_warehouse
    per_type = dict(
        wh.query("select event_type, sum(events) from marts.agg_event_lateness_daily group by 1")
    )
    stream = dict(
        wh.query("select event_type, count(*) from staging.stg_braze_currents__events group by 1")
    )
    assert per_type == stream
    late = wh.query(
        "select min(min_lateness_seconds), max(max_lateness_seconds), "
        "sum(events_with_receipt_time), sum(events) from marts.agg_event_lateness_daily"
    )[0]
    assert late[2] == late[3]  # every event's batch has a receipt time
    assert late[1] >= late[0]


def test_guide_queries_read_the_marts_only():
    for sql in guide_queries():
        relations = re.findall(r"\b(?:from|join)\s+([a-z_]+)\.([a-z_]+)", sql, re.I)
        assert all(schema == "marts" for schema, _ in relations), sql


def test_dim_users_flat_channel_columns(built_warehouse):
    wh = built_warehouse
    for channel in ("email", "pushnotification", "sms"):
        sends = dict(
            wh.query(
                "select external_user_id, count(*) from marts.fct_message_engagement "
                "where channel = ? and action = 'send' and external_user_id is not null "
                "group by 1",
                [channel],
            )
        )
        flat = dict(
            wh.query(
                f"select external_user_id, {channel}_sends from marts.dim_users "
                f"where {channel}_sends > 0"
            )
        )
        assert flat == sends and sends, channel
        last = dict(
            wh.query(
                "select external_user_id, max(event_at) from marts.fct_message_engagement "
                "where channel = ? and external_user_id is not null and action in "
                "('open', 'click', 'short_link_click', 'read', 'inbound_receive') "
                "and not coalesce(is_machine_open, false) group by 1",
                [channel],
            )
        )
        got = dict(
            wh.query(
                f"select external_user_id, {channel}_last_engaged_at from marts.dim_users "
                f"where {channel}_last_engaged_at is not null"
            )
        )
        assert got == last, channel


def test_workspace_is_carried_into_the_marts(built_warehouse):
    wh = built_warehouse
    mismatched, carried = wh.query(
        "select count(*) filter (where f.app_group_id is distinct from "
        "json_extract_string(e.properties, '$.app_group_id')), count(f.app_group_id) "
        "from marts.fct_message_engagement f join staging.stg_braze_currents__events e "
        "using (event_id)"
    )[0]
    assert mismatched == 0 and carried > 0
    # Per workspace, the daily mart's sends add up to the events' sends.
    by_workspace = dict(
        wh.query(
            "select app_group_id, sum(sends) from marts.agg_message_performance_daily "
            "group by 1 having sum(sends) > 0"
        )
    )
    sends = dict(
        wh.query(
            "select app_group_id, count(*) from marts.fct_message_engagement "
            "where action = 'send' group by 1"
        )
    )
    assert by_workspace == sends
    assert wh.scalar("select count(app_group_id) from marts.fct_message_sends") > 0


def most_asked() -> list[str]:
    """The queries of the guide's "questions asked most" section, in order."""
    from test_marts import GUIDE

    text = GUIDE.read_text()
    return re.findall(r"```sql\n(.*?)```", text[text.index("## 7. ") :], re.S)


def test_the_most_asked_queries_answer_from_the_marts_what_the_events_say(built_warehouse):
    """Each "done when" query of the guide, run on the marts, against the facts it sums."""
    wh = built_warehouse
    daily, lifetime, funnel, revenue, deliverability, engaged, lateness = most_asked()

    # Daily and lifetime campaign performance by name and channel: every send and message.
    sends = wh.scalar(f"select sum(sends) from ({daily})")
    assert sends == wh.scalar(
        "select count(*) from marts.fct_message_engagement "
        "where action = 'send' and campaign_id is not null"
    )
    assert (
        sends > 0 and wh.scalar(f"select count(*) from ({daily}) where campaign_name is null") == 0
    )
    assert wh.scalar(f"select sum(messages) from ({lifetime})") == wh.scalar(
        "select count(*) from marts.fct_message_sends where campaign_id is not null"
    )

    # A Canvas funnel by step name in order (the generator names steps in their order).
    rows = wh.query(
        f"select app_group_id, canvas_name, step_order, canvas_step_name from ({funnel})"
    )

    def nulls_last(row):
        return [(value is None, value) for value in row[:3]]

    assert rows == sorted(rows, key=nulls_last)
    assert all(name == f"Step {order}" for _, _, order, name in rows if order is not None)
    assert len({r[1] for r in rows}) > 2

    # Revenue per day and currency, with at most three top products.
    got = wh.query(f"select sum(purchases), max(len(top_products)) from ({revenue})")[0]
    assert got == (wh.scalar("select count(*) from marts.fct_purchases"), 3)

    # Deliverability by mailbox provider: every delivered or bounced email.
    by_provider = dict(wh.query(f"select mailbox_provider, processed from ({deliverability})"))
    assert sum(by_provider.values()) == wh.scalar(
        "select count(*) from marts.fct_message_deliverability "
        "where channel = 'email' and action in ('delivery', 'bounce', 'soft_bounce')"
    )
    assert {"Gmail", "Yahoo", "Microsoft", "Apple"} <= set(by_provider)

    # The most engaged users of the last 7 days: the first is the one with most engagements.
    top = wh.query(engaged)
    most = wh.scalar(
        "select max(n) from (select app_group_id, braze_id, sum(engagements_7d) as n "
        "from marts.agg_user_engagement_recent group by all)"
    )
    assert top and top[0][3] == most > 0
    assert [r[3] for r in top] == sorted((r[3] for r in top), reverse=True)

    # Event volume and lateness per type and day: every event of the stream.
    assert wh.scalar(f"select sum(events) from ({lateness})") == wh.scalar(
        "select count(*) from staging.stg_braze_currents__events"
    )
