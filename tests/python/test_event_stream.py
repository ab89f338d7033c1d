"""The event stream in dbt: every usable event once, unusable ones kept with a reason,
incremental runs equal to a full refresh."""

from __future__ import annotations

import shutil

import pytest
from warehouse_testing import Warehouse, generate

pytestmark = pytest.mark.dbt


def test_one_row_per_distinct_usable_event(built_warehouse):
    wh, stats = built_warehouse, built_warehouse.stats
    rows, distinct = wh.query(
        "select count(*), count(distinct event_id) from staging.stg_braze_currents__events"
    )[0]
    assert rows == distinct == stats["distinct_events"]
    by_type = dict(
        wh.query("select event_type, count(*) from staging.stg_braze_currents__events group by 1")
    )
    assert by_type == stats["events_by_type"]


def test_unusable_events_are_kept_with_a_reason(built_warehouse):
    wh, stats = built_warehouse, built_warehouse.stats
    reasons = dict(
        wh.query(
            "select reason, count(*) from staging.stg_braze_currents__invalid_events group by 1"
        )
    )
    expected = {
        "no id": stats["bad_events"].get("missing_id", 0),
        "no event_type": stats["bad_events"].get("missing_event_type", 0),
        "time is not a number": stats["bad_events"].get("bad_time", 0),
    }
    # A bad event redelivered in a duplicate batch is the same event: counted once.
    assert reasons == {k: v for k, v in expected.items() if v}
    assert sum(reasons.values()) > 0
    events_json = wh.scalar(
        "select count(*) from staging.stg_braze_currents__invalid_events where event is null"
    )
    assert events_json == 0


def test_events_keep_their_envelope(built_warehouse):
    wh = built_warehouse
    nulls = wh.query(
        """
        select count(*) filter (where braze_id is null),
               count(*) filter (where properties is null),
               count(*) filter (where event_at < '2026-10-01' or event_at > '2026-12-31')
        from staging.stg_braze_currents__events
        """
    )[0]
    assert nulls == (0, 0, 0)
    flat = wh.query(
        "select braze_id, properties->>'update_source' from staging.stg_braze_currents__events "
        "where event_type = 'users.profile.Update' limit 1"
    )[0]
    assert flat[0] and flat[1]  # fields of a flat event moved into properties


def test_incremental_runs_equal_a_full_refresh(tmp_path, dbt_target):
    day1 = tmp_path / "day1.ndjson"
    day2 = tmp_path / "day2.ndjson"
    s1 = generate(day1, "--events", "1500", "--users", "40", "--days", "1", "--seed", "11",
                  "--duplicate-rate", "0.1", "--bad-event-rate", "0.02")  # fmt: skip
    # Day 2 redelivers part of day 1 (the same seed at the start) and adds its own events.
    s2 = generate(day2, "--events", "2500", "--users", "40", "--days", "2", "--seed", "11",
                  "--duplicate-rate", "0.1", "--bad-event-rate", "0.02")  # fmt: skip
    inc = Warehouse(tmp_path / "inc" / "w.duckdb", dbt_target)
    inc.load(day1)
    inc.dbt(
        "run",
        "--select",
        "staging.braze_currents",
        "--exclude",
        "staging.braze_currents.event_types",
    )
    first = inc.scalar("select count(*) from staging.stg_braze_currents__events")
    assert first == s1["distinct_events"]
    inc.load(day2)
    selector = (
        "--select",
        "staging.braze_currents",
        "--exclude",
        "staging.braze_currents.event_types",
    )
    inc.dbt("run", *selector)
    inc.dbt("run", *selector)  # a run with nothing new adds nothing
    full = Warehouse(tmp_path / "full" / "w.duckdb", dbt_target)
    shutil.copy(inc.path, full.path.parent.mkdir(parents=True) or full.path)
    full.dbt("run", "--full-refresh", *selector)
    assert (
        inc.scalar("select count(*) from staging.stg_braze_currents__events")
        == s2["distinct_events"]
    )
    for model, key in [
        ("stg_braze_currents__events", "event_id, batch_id, loaded_at, properties::varchar"),
        ("stg_braze_currents__invalid_events", "invalid_event_id, reason"),
        ("stg_braze_currents__batches", "batch_id, invalid_event_count"),
    ]:
        a = inc.query(f"select {key} from staging.{model} order by all")
        b = full.query(f"select {key} from staging.{model} order by all")
        assert a == b, model
        assert a, model


def test_the_workspace_and_app_are_columns_of_the_stream(built_warehouse):
    """app_group_id and app_id come with the event (from its properties, either envelope), so
    one warehouse can hold several Braze workspaces; NULL only where the event has none."""
    wh = built_warehouse
    rows = wh.query(
        """
        select
            count(*) filter (where app_group_id is distinct from properties->>'app_group_id'),
            count(*) filter (where app_id is distinct from properties->>'app_id'),
            count(*) filter (where app_group_id is not null),
            count(*) filter (where app_id is not null),
            count(*) filter (where app_group_id is null and properties->>'app_group_id' is null),
            count(*)
        from staging.stg_braze_currents__events
        """
    )[0]
    mismatched_group, mismatched_app, groups, apps, without_group, total = rows
    assert (mismatched_group, mismatched_app) == (0, 0)
    assert 0 < apps < groups < total
    assert without_group == total - groups  # the types Braze sends no app_group_id for


def test_every_typed_model_carries_the_workspace_of_the_stream(built_warehouse):
    from braze_currents.catalog import load_catalog

    wh = built_warehouse
    differing = []
    for e in load_catalog():
        columns = {
            r[0]
            for r in wh.query(
                "select column_name from information_schema.columns "
                f"where table_schema = 'staging' and table_name = '{e.model}'"
            )
        }
        assert "app_group_id" in columns, e.model
        shared = ["app_group_id"] + (["app_id"] if "app_id" in columns else [])
        on = " and ".join(f"t.{c} is not distinct from s.{c}" for c in shared)
        differing.append(
            wh.scalar(
                f"select count(*) from staging.{e.model} as t anti join "
                f"staging.stg_braze_currents__events as s on t.event_id = s.event_id and {on}"
            )
        )
    assert sum(differing) == 0


@pytest.mark.parametrize("parts", [1, 7])
def test_the_batches_are_read_in_parts_each_once(built_warehouse, tmp_path, parts):
    """DuckDB reads the landed batches as `braze_currents_scan_parts` rowid ranges, in
    parallel (braze_currents__batches_to_process): whatever their number, every batch is read
    once, so the stream and the batches hold what the default build holds."""
    wh = built_warehouse.copy_to(tmp_path / "w", target=tmp_path / "target")
    selector = ("--select", "stg_braze_currents__events", "stg_braze_currents__batches")
    wh.dbt("run", "--full-refresh", *selector, dbt_vars={"braze_currents_scan_parts": parts})
    compiled = next((tmp_path / "target").glob("run/**/stg_braze_currents__events.sql"))
    assert compiled.read_text().count("rowid >=") == parts - 1
    for model, key in [
        ("stg_braze_currents__events", "event_id, batch_id, loaded_at, properties::varchar"),
        ("stg_braze_currents__batches", "batch_id, event_count, invalid_event_count"),
    ]:
        a = wh.query(f"select {key} from staging.{model} order by all")
        b = built_warehouse.query(f"select {key} from staging.{model} order by all")
        assert a == b, model
        assert len(a) > parts, model


def test_the_stream_compiles_before_the_first_load(empty_warehouse):
    """Compiling the project before anything is loaded (sqlfluff's dbt templater does, in
    `make lint`) gives the plain select of the batches: the parts need the landed table."""
    empty_warehouse.path.parent.mkdir(parents=True, exist_ok=True)  # no file: nothing loaded
    empty_warehouse.dbt("compile", "--select", "stg_braze_currents__events")
    compiled = (
        empty_warehouse.target
        / "compiled/braze_currents/models/staging/braze_currents/stg_braze_currents__events.sql"
    )
    assert "rowid" not in compiled.read_text()
    assert "currents_batches" in compiled.read_text()
