"""The benchmark runs end to end (tiny sizes) and returns its documented shape."""

from __future__ import annotations

from braze_currents.devtools.exporter_bench import run_for_report


def test_bench_smoke(tmp_path):
    report = run_for_report(rows=300, concurrency=4, latencies=(0.0,), repeats=1)
    assert report["rows"] == 300 and report["requests"] == 4
    [line] = report["results"]
    for runner in ("exporter", "exporter_skip_invalid", "bare"):
        numbers = line[runner]
        assert numbers["seconds"] > 0 and numbers["rows_per_s"] > 0 and numbers["cpu_seconds"] >= 0
    assert line["exporter_vs_bare"] > 0
    exporter = line["exporter"]
    assert exporter["start_seconds"] > 0 and exporter["finish_seconds"] > 0
    assert exporter["start_seconds"] + exporter["finish_seconds"] < exporter["seconds"]
    assert "start_seconds" not in line["bare"]
    assert any("bare" in row for row in report["table"])
    assert any("start s" in row and "finish s" in row for row in report["table"])
