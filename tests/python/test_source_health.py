"""The loader's log and rejects, staged and tested: source freshness on the loads and on the
newest event, and a warning when the latest load rejected records."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.dbt


def test_rejects_of_the_latest_load_warn(built_warehouse):
    wh = built_warehouse
    raw, staged = wh.query(
        "select (select count(*) from raw.currents_rejected), "
        "(select count(*) from staging.stg_braze_currents__rejected)"
    )[0]
    assert raw == staged > 0  # the faulty inputs have malformed records
    [result] = [
        r
        for r in wh.build_results["results"]
        if r["unique_id"].startswith("test.braze_currents.warn_when_the_latest_load_rejected")
    ]
    files = wh.scalar(
        "select count(*) from staging.stg_braze_currents__loads where rejected > 0 "
        "and loaded_at = (select max(loaded_at) from raw.currents_loads)"
    )
    assert result["status"] == "warn" and result["failures"] == files > 0


def test_source_freshness_of_loads_and_of_the_newest_event(built_warehouse, tmp_path):
    wh = built_warehouse.copy_to(tmp_path / "w", target=tmp_path / "target")
    wh.dbt("source", "freshness", check=False)  # the generated events are weeks old: a warning
    results = {
        r["unique_id"].rsplit(".", 1)[-1]: r
        for r in json.loads((tmp_path / "target" / "sources.json").read_text())["results"]
    }
    assert results["currents_loads"]["status"] == "pass"
    assert results["currents_batches"]["status"] == "pass"
    newest_event = wh.scalar(
        "select max(event_at) from staging.stg_braze_currents__events "
        "where loaded_at = (select max(loaded_at) from raw.currents_loads)"
    )
    events = results["currents_events"]
    assert events["max_loaded_at"].startswith(newest_event.isoformat())
    assert events["status"] == "warn"  # older than a day: warned, never an error
