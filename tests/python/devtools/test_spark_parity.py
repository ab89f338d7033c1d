"""The Spark parity harness: its row comparison (fast, always), and the run itself on local
Spark (marked `spark`: `make test-spark`)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from braze_currents.config import PROJECT_ROOT
from braze_currents.devtools import spark_parity
from braze_currents.devtools.spark_parity import compare_rows, normalize

COLS = ["id", "at", "doc", "x"]
AT = datetime(2026, 10, 1, 12, 0, 0, 123456)


def test_equal_rows_in_any_order_and_column_order_are_equal():
    a = [(1, AT, '{"a": 1, "b": [1, 2]}', 0.1), (2, None, None, None)]
    b = [(None, None, 2, None), ('{"b":[1,2],"a":1}', 0.1, 1, AT)]  # other order, compact JSON
    result = compare_rows("r", COLS, a, ["doc", "x", "id", "at"], b, {"doc"})
    assert result.equal and (result.duckdb_rows, result.spark_rows) == (2, 2)


def test_one_value_that_differs_is_found_and_shown():
    a = [(1, AT, "{}", 1.5), (2, AT, "{}", 2.5)]
    b = [(1, AT, "{}", 1.5), (2, AT + timedelta(microseconds=1), "{}", 2.5)]
    result = compare_rows("r", COLS, a, COLS, b, {"doc"})
    assert result.status == "different"
    assert "1 row(s) only on DuckDB, 1 only on Spark" in result.detail
    assert result.only_duckdb[0][0] == "2026-10-01 12:00:00.123456"  # columns sorted: at first
    assert result.only_spark[0][0] == "2026-10-01 12:00:00.123457"


def test_rows_are_a_multiset_a_duplicate_more_or_less_differs():
    a = [(1, AT, "{}", 1.0), (1, AT, "{}", 1.0)]
    b = [(1, AT, "{}", 1.0)]
    result = compare_rows("r", COLS, a, COLS, b)
    assert result.status == "different" and result.detail.startswith("1 row(s) only on DuckDB")


def test_a_missing_or_extra_column_differs_whatever_the_rows():
    result = compare_rows("r", COLS, [], ["id", "at", "doc", "y"], [])
    assert result.status == "different"
    assert "only on DuckDB ['x'], only on Spark ['y']" in result.detail


def test_empty_relations_are_equal_only_when_both_are_empty():
    assert compare_rows("r", COLS, [], COLS, []).equal
    assert not compare_rows("r", COLS, [(1, AT, "{}", 1.0)], COLS, []).equal


def test_text_that_is_not_json_is_compared_as_it_is():
    a, b = [(1, AT, "{oops", 0)], [(1, AT, "{oops", 0)]
    assert compare_rows("r", COLS, a, COLS, b, {"doc"}).equal
    assert not compare_rows("r", COLS, a, COLS, [(1, AT, "{oops2", 0)], {"doc"}).equal


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (7, 7.0),  # an integer and an integral double
        (Decimal("7.50"), 7.5),
        (0.1 + 0.2, 0.3),  # beyond 12 significant digits
        (AT.replace(tzinfo=UTC), AT),  # an instant in UTC and naive UTC
        (datetime(2026, 10, 1, 14, tzinfo=timezone(timedelta(hours=2))), datetime(2026, 10, 1, 12)),
        ([1, {"b": 2, "a": 1}], (1, {"a": 1, "b": 2})),
    ],
)
def test_values_the_engines_write_differently_are_equal(left, right):
    assert normalize(left) == normalize(right)


@pytest.mark.parametrize(
    ("left", "right", "is_json"),
    [
        (7, 7.5, False),
        (0.1, 0.1000001, False),
        (True, 1, False),  # a boolean is not a number
        (False, "false", False),
        ("7", 7, False),  # text is not a number (unless the column is JSON)
        (None, "", False),
        (AT, AT + timedelta(microseconds=1), False),
        ('{"a": 1}', '{"a": "1"}', True),
        ('{"a": 1}', '{"a": 1, "b": null}', True),
        (float("nan"), 0.0, False),
    ],
)
def test_values_that_differ_stay_different(left, right, is_json):
    assert normalize(left, is_json) != normalize(right, is_json)


def test_the_report_lists_what_is_not_yet_comparable():
    report = spark_parity.Report(ported=[], not_yet_ported=["dim_users", "fct_sessions"])
    phase = spark_parity.Phase("full", duckdb_build="ok", spark_build="ok")
    phase.comparisons.append(compare_rows("raw.x", ["a"], [(1,)], ["a"], [(1,)]))
    report.phases.append(phase)
    assert report.ok() and not report.ok(strict=True)
    assert "not yet comparable (not ported to Spark): 2" in report.summary()
    assert "dim_users, fct_sessions" in report.summary()
    phase.comparisons.append(compare_rows("raw.y", ["a"], [(1,)], ["a"], [(2,)]))
    assert not report.ok()
    phase.comparisons.pop()
    phase.spark_build = "failed: x"
    assert not report.ok()


@pytest.mark.spark
def test_spark_builds_every_model_with_the_rows_duckdb_builds(tmp_path):
    """make test-spark: the raw landing, the cross-database tests and every model (staging,
    marts, exports), full and incremental, on local Spark against DuckDB; --strict, so a model
    that is not compared fails. Slow (Spark starts once, then runs each model as Spark jobs)."""
    report_path = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "braze_currents.devtools.spark_parity",
         "--workdir", str(tmp_path / "work"), "--report", str(report_path), "--strict"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=1800,
    )  # fmt: skip
    print(proc.stdout)  # the summary, with what is not yet comparable (pytest -s, or -rA)
    assert report_path.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert [p["name"] for p in report["phases"]] == [
        "full build, day 1",
        "incremental build, day 2",
    ]
    for phase in report["phases"]:
        assert phase["duckdb_build"] == "ok", phase["duckdb_build"]
        assert phase["spark_build"] == "ok", phase["spark_build"]
        compared = {c["relation"]: c for c in phase["comparisons"]}
        assert set(spark_parity.RAW_TABLES) <= set(compared)
        for c in compared.values():
            assert c["status"] == "equal", c
        assert compared["raw.currents_batches"]["duckdb_rows"] > 0
        assert compared["raw.currents_rejected"]["duckdb_rows"] > 0  # the faults of day one
    # Every model of each layer was compared, the incremental marts among them.
    assert report["not_yet_ported"] == []
    ported = set(report["ported"])
    for model in ("stg_braze_currents__events", "dim_users", "fct_sessions", "fct_message_sends",
                  "agg_message_performance_daily", "export_braze_user_attributes"):  # fmt: skip
        assert model in ported, model
    assert report["ok"] and proc.returncode == 0


def test_a_column_each_run_stamps_anew_is_left_out_but_must_be_there_on_both():
    cols = ["id", "staged_at"]
    a = [(1, AT), (2, AT)]
    b = [(1, AT + timedelta(seconds=90)), (2, AT + timedelta(seconds=90))]
    assert not compare_rows("r", cols, a, cols, b).equal
    assert compare_rows("r", cols, a, cols, b, ignore={"staged_at"}).equal
    # the other columns still count, and a volatile column may not be missing or NULL
    assert not compare_rows("r", cols, a, cols, [(1, AT), (3, AT)], ignore={"staged_at"}).equal
    missing = compare_rows("r", cols, a, ["id"], [(1,), (2,)], ignore={"staged_at"})
    assert missing.status == "different" and "staged_at" in missing.detail
    nulls = compare_rows("r", cols, a, cols, [(1, None), (2, AT)], ignore={"staged_at"})
    assert nulls.status == "different" and "NULL" in nulls.detail


def test_the_batch_check_stamp_is_the_only_volatile_column():
    assert spark_parity.VOLATILE_COLUMNS == {"stg_braze_currents__batches": ("staged_at",)}


def test_tests_left_out_of_the_spark_build_are_reported():
    report = spark_parity.Report(ported=["m"], tests_not_on_spark=["resource_type:unit_test"])
    phase = spark_parity.Phase("full", duckdb_build="ok", spark_build="ok")
    phase.comparisons.append(compare_rows("raw.x", ["a"], [(1,)], ["a"], [(1,)]))
    report.phases.append(phase)
    # DuckDB-only tests are listed, not a parity failure: `make test` runs them
    assert report.ok() and report.ok(strict=True)
    assert (
        "tests left out of the Spark build (DuckDB only; `make test` runs them):\n"
        "   resource_type:unit_test"
    ) in report.summary()


def test_the_spark_build_runs_the_data_tests_but_the_excluded_ones():
    args = spark_parity._selection()
    excluded = args[args.index("--exclude") + 1 : args.index("--indirect-selection")]
    assert excluded == [*spark_parity.NOT_PORTED, *spark_parity.SPARK_EXCLUDED_TESTS]
    assert "resource_type:unit_test" in excluded
    # cautious: a model's data tests run with it on Spark (a test reading an unselected model
    # waits); "empty" would build the models untested
    assert args[args.index("--indirect-selection") + 1] == "cautious"


def test_every_model_is_ported():
    assert spark_parity.NOT_PORTED == ()
    assert len(spark_parity.TYPED_MODELS) == 102
