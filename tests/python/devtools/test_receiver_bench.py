"""The receiver benchmark's logic (``make bench`` runs it for real; no speed is asserted)."""

from braze_currents.devtools import receiver_bench
from braze_currents.devtools.bench import Report, render
from braze_currents.devtools.poster import make_body, percentile


def test_percentile_is_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 0.50) == 50.0
    assert percentile([7.0], 0.99) == 7.0


def test_bodies_hold_the_events_asked_for_with_distinct_ids():
    import json

    a, b = json.loads(make_body(3, tag="a")), json.loads(make_body(3, tag="b"))
    assert [e["id"] for e in a["events"]] == ["a-0", "a-1", "a-2"]
    assert {e["id"] for e in a["events"]}.isdisjoint(e["id"] for e in b["events"])


def test_a_small_run_measures_both_servers_and_renders_every_figure():
    result = receiver_bench.run(total=40, concurrency=4, distinct=5, rounds=1)
    for key in ("receiver", "bare"):
        r = result[key]
        assert r["acknowledged"] == r["bodies"] == 40
        assert r["bodies_per_s"] > 0 and r["p99_ms"] >= r["p50_ms"] > 0
        assert r["server_cpu_ms_per_body"] > 0
    assert result["receiver"]["bodies_per_fsync"] >= 1
    text = receiver_bench.render(result)
    row = next(line for line in text.splitlines() if "receiver (group commit)" in line)
    assert f"{result['receiver']['bodies_per_s']:,}" in row
    assert f"{result['ratio']:.2f}x" in text


def test_make_bench_prints_the_receiver_table_last():
    report = Report(
        machine={
            "cpu": "c",
            "cores": 2,
            "memory_gb": 1,
            "python": "3",
            "duckdb": "2",
            "when": "now",
        },
        receiver={"table": "Receiver: a table\n  row"},
    )
    assert render(report).endswith("Receiver: a table\n  row")
