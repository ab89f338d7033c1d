"""Typed staging: one model per catalogued Currents event type, typed from the catalogue,
tolerant of schema drift (new fields, wrong-typed values, unknown event types)."""

from __future__ import annotations

import json
import re
from functools import cache

import duckdb
import pytest
import yaml

from braze_currents.catalog import CATALOG_PATH, load_catalog

UNKNOWN_TYPE = "users.messages.carrierpigeon.Send"
NEW_FIELD = "experimental_field_v11"
# Conversions that can fail; text and JSON columns take any JSON value.
CHECKED_TYPES = {"bigint", "double", "boolean", "timestamp"}
DUCKDB_TYPES = {
    "varchar": "VARCHAR",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "json": "JSON",
    "timestamp": "TIMESTAMP",
}
SINGULAR_TEST = "test.braze_currents.assert_typed_models_hold_each_catalogued_event_once"


@cache
def catalogue_yml() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the safe loader, in C when built
    return yaml.load(CATALOG_PATH.read_text(), Loader=loader)  # noqa: S506


def column_tests(model: dict, column: str) -> list[str]:
    for c in model["columns"]:
        if c["name"] == column:
            return [t if isinstance(t, str) else next(iter(t)) for t in c.get("data_tests", [])]
    raise KeyError(column)


# ---- the catalogue carries the tests (no warehouse needed) -----------------------------------


def test_every_typed_model_has_its_primary_key_test():
    for model in catalogue_yml()["models"]:
        assert column_tests(model, "event_id") == ["braze_currents__primary_key"], model["name"]


def test_no_typed_model_carries_its_own_drift_test():
    """Wrong-typed values are checked for every model by one test on the event stream."""
    for model in catalogue_yml()["models"]:
        assert column_tests(model, "properties") == [], model["name"]


def test_boolean_like_text_has_its_typed_companion():
    email_open = {e.event_type: e for e in load_catalog()}["users.messages.email.Open"]
    fields = {f.name: f for f in email_open.fields}
    assert (fields["machine_open"].data_type, fields["is_machine_open"].data_type) == (
        "varchar",
        "boolean",
    )
    assert fields["is_machine_open"].json_key == "machine_open"


def test_unit_tests_type_from_the_real_catalogue_entries():
    """dbt unit tests give the typing macro its catalogue entry (dbt renders them without the
    graph): those entries must be lines of the real catalogue."""
    unit_tests = yaml.safe_load((CATALOG_PATH.parent / "_event_types__unit_tests.yml").read_text())
    models = {m["name"]: m for m in catalogue_yml()["models"]}
    assert len(unit_tests["unit_tests"]) >= 4
    for test in unit_tests["unit_tests"]:
        entry = test["overrides"]["macros"]["braze_currents__typed_entry"]
        model = models[test["model"]]
        assert entry["name"] == model["name"]
        assert entry["event_type"] == model["config"]["meta"]["currents_event_type"]
        columns = {
            c["name"]: (c["data_type"], (c.get("meta") or {}).get("json_key"))
            for c in model["columns"]
        }
        for c in entry["columns"]:
            assert columns[c["name"]] == (c["data_type"], c.get("json_key")), (test["name"], c)


# ---- the built warehouse -------------------------------------------------------------------


def manifest(wh) -> dict:
    return json.loads((wh.target / "manifest.json").read_text())


def typed_nodes(wh) -> dict[str, dict]:
    """event type -> model node, from the manifest."""
    out = {}
    for node in manifest(wh)["nodes"].values():
        event_type = node["config"].get("meta", {}).get("currents_event_type")
        if node["resource_type"] == "model" and event_type:
            assert event_type not in out, f"two models for {event_type}"
            out[event_type] = node
    return out


def build_result(wh, test_name: str, attached_model: str) -> dict:
    """The `dbt build` result of the generic test `test_name` on `attached_model`."""
    nodes = manifest(wh)["nodes"]
    for result in wh.build_results["results"]:
        node = nodes.get(result["unique_id"], {})
        if (
            node.get("test_metadata", {}).get("name") == test_name
            and node.get("attached_node") == f"model.braze_currents.{attached_model}"
        ):
            return result
    raise KeyError((test_name, attached_model))


@pytest.mark.dbt
def test_every_catalogued_event_type_has_its_model(built_warehouse):
    wh = built_warehouse
    nodes = typed_nodes(wh)
    assert set(nodes) == {e.event_type for e in load_catalog()}
    assert len(nodes) == 102  # 5 of them retired
    relations = {
        name
        for (name,) in wh.query(
            "select table_name from information_schema.tables where table_schema = 'staging'"
        )
    }
    assert {n["alias"] for n in nodes.values()} <= relations


@pytest.mark.dbt
def test_rows_per_typed_model_equal_the_distinct_events_of_its_type(built_warehouse):
    wh, by_type = built_warehouse, built_warehouse.stats["events_by_type"]
    union = " union all ".join(
        f"select '{e.event_type}' as event_type, count(*) as n, count(distinct event_id) as d "
        f"from staging.{e.model}"
        for e in load_catalog()
    )
    counted = {t: (n, d) for t, n, d in wh.query(union)}
    expected = {e.event_type: by_type.get(e.event_type, 0) for e in load_catalog()}
    assert {t: n for t, (n, _) in counted.items()} == expected
    assert {t: d for t, (_, d) in counted.items()} == expected
    # The generator covers every catalogued type Braze still sends.
    retired = {e.event_type for e in load_catalog() if e.retired}
    assert min(n for t, n in expected.items() if t not in retired) > 0


@pytest.mark.dbt
def test_columns_and_types_are_the_catalogues(built_warehouse):
    """What a model contract would check, for all 97 models in one query."""
    wh = built_warehouse
    rows = wh.query(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'staging' order by table_name, ordinal_position"
    )
    actual: dict[str, list] = {}
    for table, column, data_type in rows:
        actual.setdefault(table, []).append((column, data_type))
    for model in catalogue_yml()["models"]:
        expected = [(c["name"], DUCKDB_TYPES[c["data_type"]]) for c in model["columns"]]
        assert actual[model["name"]] == expected, model["name"]


@pytest.mark.dbt
def test_typed_values(built_warehouse):
    wh = built_warehouse
    opens = wh.query(
        """
        select count(*) filter (where is_machine_open),
               count(*) filter (where not is_machine_open),
               count(*) filter (where is_machine_open is distinct from (machine_open = 'true')),
               count(*) filter (where machine_open is null)
        from staging.stg_braze_currents__email_opens
        """
    )[0]
    assert opens[0] > 0 and opens[1] > 0
    assert opens[2:] == (0, 0)
    # A missing field is NULL, a present one is typed: the columns hold exactly what
    # `properties` holds, except values that cannot be converted.
    purchases = wh.query(
        """
        select count(price),
               count(*) filter (where properties->>'price' is not null),
               count(*) filter (where properties->>'price' = 'not a number'),
               count(purchase_properties),
               count(*) filter (where json_type(purchase_properties) = 'OBJECT')
        from staging.stg_braze_currents__purchases
        """
    )[0]
    prices, present, not_a_number, nested, objects = purchases
    assert prices == present - not_a_number > 0
    assert nested == objects > 0
    # A flat (storage-format) event is typed like the others.
    flat = wh.query(
        """
        select count(*), count(update_source), count(properties->>'update_source'),
               count(braze_id)
        from staging.stg_braze_currents__profile_updates
        """
    )[0]
    assert flat[0] > 0 and flat[1] == flat[2] > 0 and flat[3] == flat[0]


@pytest.mark.dbt
def test_new_fields_stay_in_properties(built_warehouse):
    wh = built_warehouse
    union = " union all ".join(
        f"select count(*) from staging.{e.model} where json_exists(properties, '$.{NEW_FIELD}')"
        for e in load_catalog()
    )
    in_typed = sum(n for (n,) in wh.query(union))
    in_unknown = wh.scalar(
        "select count(*) from staging.stg_braze_currents__events "
        f"where event_type = '{UNKNOWN_TYPE}' and json_exists(properties, '$.{NEW_FIELD}')"
    )
    assert in_typed > 0
    assert in_typed + in_unknown == wh.stats["drifted_events"]["new_field"]


@pytest.mark.dbt
def test_the_build_is_green_and_the_drift_warnings_fire(built_warehouse):
    wh = built_warehouse
    results = wh.build_results["results"]
    statuses = {r["status"] for r in results}
    # no-op: ephemeral models (intermediate/), which dbt inlines instead of building.
    assert statuses <= {"success", "pass", "warn", "no-op"}, statuses
    assert {"success", "pass", "warn"} <= statuses
    # Wrong-typed values: each counted once, in one test over every typed model.
    convert = build_result(wh, "braze_currents__typed_values_convert", "stg_braze_currents__events")
    assert convert["status"] == "warn"
    assert convert["failures"] == wh.stats["drifted_events"]["wrong_type"] > 0
    listed = wh.query(convert["compiled_code"])
    assert sum(n for *_, n, _example in listed) == convert["failures"]
    assert all(example == '"not a number"' for *_, example in listed)
    # The per-model primary key tests ran (the test fixture enables them, as CI does).
    keys = [r for r in results if "braze_currents__primary_key_" in r["unique_id"]]
    assert len(keys) == 102 and all(r["status"] == "pass" for r in keys)
    # Unknown event types: listed, with a warning.
    unknown = build_result(
        wh, "braze_currents__catalogued_event_types", "stg_braze_currents__events"
    )
    assert (unknown["status"], unknown["failures"]) == ("warn", 1)
    listed = wh.query(unknown["compiled_code"])
    assert [(t, n) for t, n, *_ in listed] == [
        (UNKNOWN_TYPE, wh.stats["events_by_type"][UNKNOWN_TYPE])
    ]
    # New fields: listed per event type, with a warning.
    new_keys = build_result(
        wh, "braze_currents__catalogued_properties", "stg_braze_currents__events"
    )
    assert new_keys["status"] == "warn"
    listed = wh.query(new_keys["compiled_code"])
    assert len(listed) == new_keys["failures"]
    assert sum(n for _, key, n, *_ in listed if key == NEW_FIELD) > 0
    assert {key for _, key, *_ in listed} == {NEW_FIELD}  # the generator adds no other key
    assert {t for t, *_ in listed}.isdisjoint({UNKNOWN_TYPE})


@pytest.mark.dbt
def test_unknown_types_stay_in_the_event_stream_only(built_warehouse):
    wh = built_warehouse
    n = wh.scalar(
        "select count(*) from staging.stg_braze_currents__events where event_type = ?",
        [UNKNOWN_TYPE],
    )
    assert n == wh.stats["events_by_type"][UNKNOWN_TYPE] > 0
    assert UNKNOWN_TYPE not in typed_nodes(wh)


@pytest.mark.dbt
def test_coverage_test_runs_after_every_typed_model_and_passes(built_warehouse):
    """The singular test's SQL comes from the graph, but dbt orders it by its depends_on lines:
    they must name every typed model."""
    wh = built_warehouse
    node = manifest(wh)["nodes"][SINGULAR_TEST]
    expected = {n["unique_id"] for n in typed_nodes(wh).values()}
    expected.add("model.braze_currents.stg_braze_currents__events")
    expected.add("model.braze_currents.stg_braze_currents__batches")  # its test scope
    assert set(node["depends_on"]["nodes"]) == expected
    result = next(r for r in wh.build_results["results"] if r["unique_id"] == SINGULAR_TEST)
    assert result["status"] == "pass"
    assert len(re.findall(r"\bunion all\b", result["compiled_code"])) == 101


@pytest.mark.dbt
def test_coverage_test_finds_a_lost_and_a_doubled_event(built_warehouse, tmp_path):
    """The coverage test can fail: run its SQL on a copy where one typed model loses an
    event and another holds one twice."""
    wh = built_warehouse
    sql = next(
        r["compiled_code"] for r in wh.build_results["results"] if r["unique_id"] == SINGULAR_TEST
    )
    con = duckdb.connect(str(wh.copy_to(tmp_path).path))
    try:
        con.execute(
            "create or replace view staging.stg_braze_currents__purchases as "
            "select * from staging.stg_braze_currents__events "
            "where event_type = 'users.behaviors.Purchase' and event_id <> "
            "(select min(event_id) from staging.stg_braze_currents__events "
            " where event_type = 'users.behaviors.Purchase')"
        )
        con.execute(
            "create or replace view staging.stg_braze_currents__uninstalls as "
            "select * from staging.stg_braze_currents__events "
            "where event_type = 'users.behaviors.Uninstall' "
            "union all (select * from staging.stg_braze_currents__events "
            "where event_type = 'users.behaviors.Uninstall' limit 1)"
        )
        problems = {p.split(":")[0] for *_, p in con.execute(sql).fetchall()}
    finally:
        con.close()
    assert problems == {"lost", "doubled"}


@pytest.mark.dbt
def test_docs_describe_every_typed_model_and_column(built_warehouse):
    """`dbt docs generate` (run by the fixture) documents every typed model and column."""
    wh = built_warehouse
    nodes = manifest(wh)["nodes"]
    catalog = wh.docs_catalog["nodes"]
    typed = [n for n in nodes.values() if n["config"].get("meta", {}).get("currents_event_type")]
    assert len(typed) == 102
    for node in typed:
        assert len(node["description"]) > 80 and "{{" not in node["description"], node["name"]
        in_db = set(catalog[node["unique_id"]]["columns"])
        assert in_db == set(node["columns"]), node["name"]
        for name, column in node["columns"].items():
            text = column["description"]
            assert text and "{{" not in text and "doc(" not in text, (node["name"], name)
