"""The data tests check what each dbt run brought in: the loads the latest run staged, as a
literal on `loaded_at`; the keys of those rows against every row of the model; everything
after a full refresh or with the scope `all`."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import duckdb
import pytest
from warehouse_testing import Warehouse, generate

from braze_currents.config import PROJECT_ROOT

pytestmark = pytest.mark.dbt

# Every data test that reads braze_currents__test_scope().
SCOPED_TESTS = (
    "test_name:braze_currents__unique_in_scope",
    "test_name:braze_currents__relationships_in_scope",
    "test_name:braze_currents__catalogued_event_types",
    "test_name:braze_currents__catalogued_properties",
    "test_name:braze_currents__typed_values_convert",
    "test_name:braze_currents__properties_are_placed",
    "test_name:braze_currents__known_envelope_keys",
    "assert_typed_models_hold_each_catalogued_event_once",
    "marts_facts_match_staging",
    "marts_message_engagement_has_every_message_event",
)
SCOPE_LITERAL = re.compile(r"\bloaded_at >= timestamp '([^']*)'")
UNIQUE_EVENT_ID = "braze_currents__unique_in_scope:stg_braze_currents__events.event_id"


class Incremental(NamedTuple):
    wh: Warehouse
    old_load: datetime  # the faulty inputs, built in full
    new_load: datetime  # a clean day, built incrementally


@pytest.fixture(scope="module")
def incremental(built_warehouse, tmp_path_factory) -> Incremental:
    """The built warehouse (one load of faulty inputs) plus a load of a clean day, built as a
    schedule does: the staging models, then the marts, reading only the new load."""
    day = tmp_path_factory.mktemp("scope_inputs") / "day.ndjson"
    generate(day, "--events", "800", "--users", "60", "--days", "1", "--start", "2026-10-20",
             "--seed", "8", "--bad-event-rate", "0.02")  # fmt: skip
    wh = built_warehouse.copy_to(tmp_path_factory.mktemp("scope"))
    wh.load(day)
    wh.dbt("run", "--select", "staging.braze_currents", "marts",
           "--exclude", "staging.braze_currents.event_types")  # fmt: skip
    old, new = (at for (at,) in wh.query("select loaded_at from raw.currents_loads order by 1"))
    return Incremental(wh, old, new)


def results_of_tests(wh: Warehouse) -> list[dict]:
    """The results of the last `dbt test` that are tests (not the on-run-start hook)."""
    results = json.loads((wh.target / "run_results.json").read_text())["results"]
    return [r for r in results if not r["unique_id"].startswith("operation.")]


def outcomes(wh: Warehouse) -> dict[str, tuple[str, int]]:
    """What the last `dbt test` found: (status, failures) by test, a generic test named
    `test:model.column`."""
    nodes = json.loads((wh.target / "manifest.json").read_text())["nodes"]
    found = {}
    for result in results_of_tests(wh):
        node = nodes[result["unique_id"]]
        name = node["name"]
        if node.get("test_metadata"):
            model = node["attached_node"].split(".")[-1]
            name = f"{node['test_metadata']['name']}:{model}.{node['column_name']}"
        found[name] = (result["status"], result["failures"])
    return found


def problems(wh: Warehouse) -> dict[str, tuple[str, int]]:
    return {name: outcome for name, outcome in outcomes(wh).items() if outcome[0] != "pass"}


def compiled_scopes(wh: Warehouse) -> dict[str, set[datetime]]:
    """The `loaded_at >= timestamp '...'` literals in each test dbt compiled last (its file in
    target/compiled)."""
    nodes = json.loads((wh.target / "manifest.json").read_text())["nodes"]
    scopes = {}
    for result in results_of_tests(wh):
        path = Path(nodes[result["unique_id"]]["compiled_path"])
        text = (path if path.is_absolute() else PROJECT_ROOT / path).read_text()
        scopes[result["unique_id"]] = {
            datetime.fromisoformat(at) for at in SCOPE_LITERAL.findall(text)
        }
    return scopes


def change(wh: Warehouse, *statements: tuple[str, list]) -> None:
    con = duckdb.connect(str(wh.path))
    try:
        for sql, params in statements:
            con.execute(sql, params)
    finally:
        con.close()


def test_a_run_checks_the_loads_it_staged(incremental):
    wh, _, new = incremental
    wh.dbt("test", "--select", *SCOPED_TESTS)
    found = outcomes(wh)
    assert len(found) >= 20
    # The drift warnings stay quiet: the faulty load was checked by the run that staged it.
    assert {status for status, _ in found.values()} == {"pass"}
    scopes = compiled_scopes(wh)
    assert len(scopes) == len(found)
    assert all(scope == {new} for scope in scopes.values()), scopes


def test_new_keys_are_checked_against_every_row(incremental, tmp_path):
    old, new = incremental.old_load, incremental.new_load
    wh = incremental.wh.copy_to(tmp_path / "broken")
    newest = "select min(event_id) from {} where loaded_at = ? and {}"
    change(
        wh,
        # A new event of a batch that is nowhere.
        (
            "insert into staging.stg_braze_currents__events "
            "select * replace (event_id || '-orphan' as event_id, 'no-such-batch' as batch_id) "
            "from staging.stg_braze_currents__events where event_id = ("
            + newest.format(
                "staging.stg_braze_currents__events", "event_type = 'users.behaviors.CustomEvent'"
            )
            + ")",
            [new],
        ),
        # An event of the old load that comes again in the new one (the model's own dedupe
        # bypassed); its user has events in the new load too.
        (
            "insert into staging.stg_braze_currents__events "
            "select * replace (?::timestamp as loaded_at) from staging.stg_braze_currents__events "
            "where event_id = (" + newest.format(
                "staging.stg_braze_currents__events",
                "event_type = 'users.behaviors.CustomEvent' and external_user_id in ("
                "select external_user_id from staging.stg_braze_currents__events "
                "where loaded_at = ?)",
            ) + ")",
            [new, old, new],
        ),
        # Two rows of the new load with one key.
        (
            "insert into marts.fct_message_engagement select * from marts.fct_message_engagement "
            "where event_id = (" + newest.format("marts.fct_message_engagement", "action = 'open'")
            + ")",
            [new],
        ),
        # Two rows of the old load with one key: checked (and passed) when that load came in.
        (
            "insert into marts.fct_purchases select * from marts.fct_purchases "
            "where event_id = (" + newest.format("marts.fct_purchases", "true") + ")",
            [old],
        ),
        # A new Canvas event and a new click lost by their facts.
        (
            "delete from marts.fct_canvas_journey_events where event_id = ("
            + newest.format("marts.fct_canvas_journey_events", "true") + ")",
            [new],
        ),
        (
            "delete from marts.fct_message_engagement where event_id = ("
            + newest.format("marts.fct_message_engagement", "action = 'click'") + ")",
            [new],
        ),
    )  # fmt: skip

    wh.dbt("test", "--select", *SCOPED_TESTS, check=False)
    assert problems(wh) == {
        UNIQUE_EVENT_ID: ("fail", 1),
        "braze_currents__unique_in_scope:fct_message_engagement.event_id": ("fail", 1),
        "braze_currents__relationships_in_scope:stg_braze_currents__events.batch_id": ("fail", 1),
        "marts_facts_match_staging": ("fail", 1),
        "marts_message_engagement_has_every_message_event": ("fail", 1),
    }

    # The scope `all` checks every row: the old duplicate too (a target of its own, so that
    # the other tests' dbt keeps its partial parse).
    everything = wh.copy_to(tmp_path / "all", target=tmp_path / "target_all")
    everything.dbt("test", "--select", *SCOPED_TESTS, check=False,
                   dbt_vars={"braze_currents_test_scope": "all"})  # fmt: skip
    found = problems(everything)
    assert {name: found[name] for name in found if found[name][0] == "fail"} == {
        UNIQUE_EVENT_ID: ("fail", 1),
        "braze_currents__unique_in_scope:fct_message_engagement.event_id": ("fail", 1),
        "braze_currents__unique_in_scope:fct_purchases.event_id": ("fail", 1),
        "braze_currents__relationships_in_scope:stg_braze_currents__events.batch_id": ("fail", 1),
        "marts_facts_match_staging": ("fail", 2),
        "marts_message_engagement_has_every_message_event": ("fail", 1),
        "assert_typed_models_hold_each_catalogued_event_once": ("fail", 2),
    }
    # ... and the drift warnings of the faulty load (an event type Braze has not announced is
    # also a channel or action the seeds do not list yet).
    assert {name.split(":")[0] for name in found if found[name][0] == "warn"} == {
        "braze_currents__relationships_in_scope",
        "braze_currents__catalogued_event_types",
        "braze_currents__catalogued_properties",
        "braze_currents__typed_values_convert",
    }
    assert not any(compiled_scopes(everything).values())


def test_a_full_refresh_checks_every_row(incremental, tmp_path):
    wh = incremental.wh.copy_to(tmp_path)
    wh.dbt("run", "--full-refresh", "--select",
           "stg_braze_currents__batches", "stg_braze_currents__events")  # fmt: skip
    change(
        wh,
        (
            "insert into staging.stg_braze_currents__events "
            "select * from staging.stg_braze_currents__events where event_id = "
            "(select min(event_id) from staging.stg_braze_currents__events where loaded_at = ?)",
            [incremental.old_load],
        ),
    )
    selector = "test_name:braze_currents__unique_in_scope,stg_braze_currents__events"
    wh.dbt("test", "--select", selector, check=False)
    assert problems(wh) == {UNIQUE_EVENT_ID: ("fail", 1)}
    assert not any(compiled_scopes(wh).values())
