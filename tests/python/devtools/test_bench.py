"""The pipeline benchmark's own logic: timing a step, and the table it prints. (The benchmark
itself runs with `make bench`; its numbers are not asserted anywhere.)"""

import sys

import pytest

from braze_currents.devtools.bench import Measure, PipelineResult, Report, render, run_measured


def test_run_measured_times_a_step_and_reads_its_peak_memory():
    m = run_measured(
        [sys.executable, "-c", "b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096])"]
    )
    assert m.seconds > 0
    assert m.peak_mb >= 200  # the child touched 200 MB; its own max RSS, not ours


def test_run_measured_reports_a_failing_step_with_its_output():
    with pytest.raises(RuntimeError, match=r"exited 3:\n.*boom"):
        run_measured([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"])


def test_ratio_is_load_and_build_over_the_floor():
    r = PipelineResult(1000, 1.0, Measure(2.0, 1), Measure(3.0, 1), Measure(5.0, 1))
    assert r.ratio == pytest.approx(4.0)


def _report() -> Report:
    result = PipelineResult(
        1_000_000, 661.0, Measure(5.0, 3000), Measure(15.0, 2900), Measure(45.0, 1900),
        1_000_000, 1_000_000,
    )  # fmt: skip
    return Report(
        machine={
            "cpu": "Test CPU",
            "cores": 2,
            "memory_gb": 23.5,
            "python": "3.11",
            "duckdb": "2.0.0",
            "when": "2026-11-23 18:00 UTC",
        },
        pipeline=[
            {
                **result.__dict__,
                "floor": result.floor.__dict__,
                "load": result.load.__dict__,
                "build": result.build.__dict__,
                "ratio": result.ratio,
            }
        ],
        incremental=[
            {
                "base_events": 1_000_000,
                "added_events": 10_000,
                "load_seconds": 1.2,
                "incremental_build_seconds": 19.0,
                "scheduled_build_seconds": 15.0,
                "full_build_seconds": 50.0,
                "incremental_share": 0.38,
                "scheduled_share": 0.30,
            }
        ],
        export={"table": ["   Export: a table from the exporter's benchmark"]},
    )


def test_render_shows_every_measure_of_every_section():
    text = render(_report())
    assert "Test CPU, 2 cores, 23.5 GB" in text
    row = next(line for line in text.splitlines() if line.lstrip().startswith("1,000,000 "))
    # events, MB, floor, load, build, load+build, x floor, peaks
    assert row.split() == ["1,000,000", "661", "5.0", "15.0", "45.0", "60.0", "12.00",
                           "3,000", "/", "2,900", "/", "1,900"]  # fmt: skip
    inc = next(line for line in text.splitlines() if "10,000" in line)
    assert inc.split() == ["1,000,000", "10,000", "1.2", "19.0", "38%", "15.0", "30%", "50.0"]
    assert text.rstrip().endswith("Export: a table from the exporter's benchmark")


def test_render_leaves_out_sections_that_did_not_run():
    report = _report()
    report.incremental, report.export = [], {}
    text = render(report)
    assert "Incremental" not in text and "Export" not in text
    assert "1,000,000" in text


@pytest.mark.parametrize("sizes", ["abc", "1000,x", "0", "-5", ","])
def test_bad_sizes_are_a_usage_error_naming_the_value(sizes, capsys):
    from braze_currents.devtools.bench import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--sizes", sizes, "--skip-export", "--skip-incremental"])
    assert exit_info.value.code == 2
    assert "--sizes" in capsys.readouterr().err


def test_sizes_parse_to_event_counts():
    from braze_currents.devtools.bench import _sizes

    assert _sizes("100000, 1000000,") == [100_000, 1_000_000]


def _write_build_artifacts(target, elapsed, timings):
    import json

    target.mkdir()
    (target / "run_results.json").write_text(
        json.dumps(
            {
                "elapsed_time": elapsed,
                "results": [{"unique_id": u, "execution_time": t} for u, t in timings.items()],
            }
        )
    )
    nodes = {
        "model.p.stg_braze_currents__events": {
            "name": "stg_braze_currents__events",
            "fqn": ["p", "staging", "braze_currents", "stg_braze_currents__events"],
        },
        "model.p.stg_braze_currents__batches": {
            "name": "stg_braze_currents__batches",
            "fqn": ["p", "staging", "braze_currents", "stg_braze_currents__batches"],
        },
        "model.p.stg_braze_currents__email_opens": {
            "name": "stg_braze_currents__email_opens",
            "fqn": ["p", "staging", "braze_currents", "event_types", "x"],
        },
        "model.p.dim_users": {"name": "dim_users", "fqn": ["p", "marts", "dim_users"]},
    }
    (target / "manifest.json").write_text(json.dumps({"nodes": nodes}))


def test_build_profile_splits_the_time_into_dbt_itself_and_node_kinds(tmp_path):
    from braze_currents.devtools.bench import build_profile

    timings = {
        "model.p.stg_braze_currents__events": 6.0,
        "model.p.stg_braze_currents__batches": 2.0,
        "model.p.stg_braze_currents__email_opens": 0.5,
        "model.p.dim_users": 1.5,
        "test.p.unique_dim_users_external_user_id.abc": 0.25,
        "test.p.not_null_dim_users_braze_id.def": 0.25,
        "unit_test.p.dim_users.keeps_latest": 0.75,
    }
    _write_build_artifacts(tmp_path / "target", 9.0, timings)
    profile = build_profile(tmp_path / "target", 12.5)
    assert profile["dbt_fixed_seconds"] == pytest.approx(3.5)
    assert profile["nodes"] == 7
    assert profile["node_seconds"] == {
        "event stream": 6.0,
        "staging": 2.0,
        "typed views": 0.5,
        "marts": 1.5,
        "data tests": 0.5,
        "unit tests": 0.75,
    }
    assert [name for name, _ in profile["slowest"]][:2] == [
        "stg_braze_currents__events",
        "stg_braze_currents__batches",
    ]


def test_render_shows_the_build_profile_of_each_build():
    report = _report()
    report.pipeline[0]["build_profile"] = {
        "seconds": 45.0,
        "dbt_fixed_seconds": 3.5,
        "nodes": 189,
        "node_seconds": {"event stream": 6.4, "typed views": 3.8, "data tests": 6.8},
    }
    text = render(report)
    row = next(line for line in text.splitlines() if line.startswith("full 1,000,000"))
    # total, dbt fixed, nodes, then the kinds in order; a kind that did not run is 0.0
    assert row.split()[2:] == ["45.0", "3.5", "189", "6.4", "0.0", "3.8", "0.0", "6.8", "0.0"]
    assert "+1 % on" not in text  # the incremental runs of _report() carry no profile


def test_floor_keeps_the_run_of_median_seconds(tmp_path, monkeypatch):
    from braze_currents.devtools import bench

    seconds = iter([9.0, 3.0, 4.0])
    monkeypatch.setattr(bench, "run_measured", lambda cmd: Measure(next(seconds), 100))

    class Con:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, sql):
            return self

        def fetchone(self):
            return (42,)

    import duckdb

    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: Con())
    measure, rows, runs = bench.floor([tmp_path / "x.ndjson"], tmp_path)
    assert (measure.seconds, rows, runs) == (4.0, 42, [9.0, 3.0, 4.0])


def test_render_shows_the_loader_on_ndjson_next_to_avro():
    report = _report()
    report.storage = [
        {
            "events": 100_000,
            "avro_files": 1_234,
            "ndjson": {"seconds": 2.0, "peak_mb": 300, "mb": 66.0, "events": 100_000},
            "avro": {"seconds": 8.0, "peak_mb": 250, "mb": 30.5, "events": 100_000},
        }
    ]
    lines = render(report).splitlines()
    rows = [line.split() for line in lines if line.lstrip().startswith("100,000 ")]
    assert rows == [
        ["100,000", "ndjson", "1", "66.0", "2.0", "50,000", "300"],
        ["100,000", "avro", "1,234", "30.5", "8.0", "12,500", "250"],
    ]
    assert "Loader on storage files" in "\n".join(lines)
    report.storage = []
    assert "Loader on storage files" not in render(report)


# ---- issue 18's targets ---------------------------------------------------------------------
def _pipe(events: int, floor: float, load: float, build: float, peak: float, **profile) -> dict:
    return {
        "events": events,
        "floor": {"seconds": floor, "peak_mb": 1000},
        "load": {"seconds": load, "peak_mb": 1000},
        "build": {"seconds": build, "peak_mb": peak},
        "build_profile": profile,
    }


def _target_report(scale: float) -> dict:
    """Numbers on the met side of every target at ``scale`` 1, beyond it at 2."""
    return {
        "pipeline": [
            _pipe(
                10_000_000,
                20.0,
                30.0 * scale,
                45.0,
                3000 * scale,
                node_seconds={"event stream": 39.0 * scale, "data tests": 10.0 * scale},
                tested_model_seconds=25.0,
            ),
            _pipe(30_000_000, 60.0, 90.0, 150.0 * scale, 3500),
        ],
        "single_file": [
            {
                "events": 10_000_000,
                "files": 10,
                "mb": 6611.0,
                "file_count": 10,
                "single": {"seconds": 70.0 * scale, "peak_mb": 3000, "events": 10_000_000},
            }
        ],
        "incremental": [
            {"base_events": 1_000_000, "incremental_share": 0.5, "scheduled_share": 0.5},
            {
                "base_events": 10_000_000,
                "incremental_share": 0.04 * scale,
                "scheduled_share": 0.03 * scale,
                "empty_day_seconds": 5.0 + 2.0 * scale,
                "dbt_startup_seconds": 4.5,
            },
        ],
        "export": {
            "results": [
                {"latency_ms": 0, "exporter_vs_bare": 0.5},
                {"latency_ms": 50, "exporter_vs_bare": 0.95 / scale},
            ]
        },
    }


def _with_file_loads(report: dict) -> dict:
    for sf in report["single_file"]:
        sf["files"] = {"seconds": 60.0, "peak_mb": 2900, "events": 10_000_000}
    return report


def test_every_target_is_met_by_numbers_within_it():
    from braze_currents.devtools.bench import targets

    found = targets(_with_file_loads(_target_report(1)))
    assert [t.name for t in found] == [
        "10 M: load + full build",
        "10 M: event stream model",
        "10 M: peak memory",
        "10 M: full-refresh data tests",
        "one 6.6 GB file",
        "30 M: load + full build",
        "10 M + a day of 1 % (dbt build)",
        "10 M + a day of 1 % (scheduled)",
        "10 M + a day of no events",
        "export at 50 ms",
    ]
    assert all(t.met for t in found), [t for t in found if not t.met]
    by_name = {t.name: t.measured for t in found}
    assert by_name["10 M: load + full build"] == "3.75x (75.0 s / 20.0 s)"
    assert by_name["10 M: full-refresh data tests"] == "0.40x (10.0 s / 25.0 s)"
    assert by_name["10 M + a day of no events"] == "+2.5 s (7.0 s / 4.5 s)"


def test_every_target_is_not_met_by_numbers_beyond_it():
    from braze_currents.devtools.bench import targets

    found = targets(_with_file_loads(_target_report(2)))
    assert [t.name for t in found if t.met] == []


def test_a_single_file_that_lands_fewer_events_misses_its_target_however_fast():
    from braze_currents.devtools.bench import targets

    report = _with_file_loads(_target_report(1))
    report["single_file"][0]["single"]["events"] -= 1
    [one] = [t for t in targets(report) if t.name.startswith("one ")]
    assert not one.met


def test_targets_leave_out_what_did_not_run_and_render_says_met_or_not():
    from braze_currents.devtools.bench import render_targets, targets

    assert targets({"pipeline": [_pipe(1_000_000, 2.0, 5.0, 15.0, 2000)]}) == []
    assert render_targets([]) == []
    lines = render_targets(targets(_with_file_loads(_target_report(1)))[:2])
    assert lines[1].startswith("Targets")
    assert "met" in lines[2] and "NOT MET" not in "\n".join(lines)
    lines = render_targets(targets(_with_file_loads(_target_report(2)))[:1])
    assert "NOT MET" in lines[2] and "5.25x" in lines[2]


def test_tested_model_seconds_counts_each_tested_model_once():
    from braze_currents.devtools.bench import tested_model_seconds

    results = {
        "results": [
            {"unique_id": "model.p.a", "execution_time": 4.0},
            {"unique_id": "model.p.b", "execution_time": 2.0},
            {"unique_id": "model.p.untested", "execution_time": 100.0},
            {"unique_id": "test.p.t1", "execution_time": 1.0},
            {"unique_id": "test.p.t2", "execution_time": 1.0},
            {"unique_id": "unit_test.p.u", "execution_time": 1.0},
        ]
    }
    nodes = {
        "test.p.t1": {"depends_on": {"nodes": ["model.p.a", "model.p.b", "macro.p.m"]}},
        "test.p.t2": {"depends_on": {"nodes": ["model.p.a", "source.p.raw.x"]}},
        "unit_test.p.u": {"depends_on": {"nodes": ["model.p.untested"]}},
    }
    assert tested_model_seconds(results, nodes) == pytest.approx(6.0)


def test_copies_multiply_the_events_with_distinct_ids(tmp_path):
    import gzip
    import json

    from braze_currents.devtools.bench import copies

    src = tmp_path / "a.ndjson"
    bodies = [{"events": [{"id": f"e{n}", "user": {"user_id": "u"}, "time": n}]} for n in range(3)]
    src.write_text("".join(json.dumps(b, separators=(",", ":")) + "\n" for b in bodies))
    out = copies([src], 3, tmp_path / "out")
    assert [p.name for p in out] == ["copy0-a.ndjson.gz", "copy1-a.ndjson.gz", "copy2-a.ndjson.gz"]
    events = []
    for p in out:
        with gzip.open(p, "rt") as fh:
            events += [json.loads(line)["events"][0] for line in fh]
    assert [e["id"] for e in events] == ["e0", "e1", "e2", "1-e0", "1-e1", "1-e2",
                                         "2-e0", "2-e1", "2-e2"]  # fmt: skip
    assert {e["user"]["user_id"] for e in events} == {"u"}  # only the event id changes
    src.write_text("")  # cached: not written again
    assert copies([src], 3, tmp_path / "out") == out and out[0].stat().st_size > 20


def test_concatenate_keeps_every_line_in_order(tmp_path):
    from braze_currents.devtools.bench import concatenate

    parts = []
    for n in range(3):
        parts.append(tmp_path / f"p{n}.ndjson")
        parts[-1].write_text(f"{n}a\n{n}b\n")
    one = concatenate(parts, tmp_path / "single" / "events.ndjson")
    assert one.read_text() == "0a\n0b\n1a\n1b\n2a\n2b\n"


def test_render_shows_the_single_file_and_no_event_day_and_the_targets():
    report = _report()
    report.single_file = _with_file_loads(_target_report(1))["single_file"]
    report.incremental[0].update(empty_day_seconds=7.0, dbt_startup_seconds=4.5)
    text = render(report)
    row = next(line for line in text.splitlines() if line.lstrip().startswith("10,000,000 "))
    assert row.split() == ["10,000,000", "6,611", "10", "60.0", "2,900", "70.0", "3,000", "1.17"]
    empty = next(line for line in text.splitlines() if "7.0" in line and "4.5" in line)
    assert empty.split() == ["1,000,000", "7.0", "4.5", "2.5"]
    assert "one 6.6 GB file" in text.split("Targets")[1]


def test_render_shows_spark_against_duckdb_per_phase_and_whether_rows_agree():
    report = _report()
    assert "Spark against DuckDB" not in render(report)  # --spark not given
    report.spark = {
        "events": 3000,
        "models": 120,
        "equal": True,
        "phases": [
            {"name": "full build, day 1", "seconds": {"load": 2.0, "duckdb": 60.0, "spark": 240.0}},
            {"name": "incremental build, day 2", "seconds": {"duckdb": 15.0, "spark": 45.0}},
        ],
    }
    text = render(report)
    assert "3,000 events" in text and "120 models, every row equal" in text
    full = next(line for line in text.splitlines() if line.startswith("full build, day 1"))
    assert full.split()[-3:] == ["60.0", "240.0", "4.0"]
    inc = next(line for line in text.splitlines() if line.startswith("incremental build"))
    assert inc.split()[-3:] == ["15.0", "45.0", "3.0"]
    report.spark["equal"] = False
    assert "every row NOT equal" in render(report)
