"""The delivery ledger: a killed run and its re-run deliver every row, resending at most what
was in flight; a re-run after failures sends only what failed."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from braze_currents.devtools.sandbox import events_sql

ROOT = Path(__file__).resolve().parents[3]
ARGS = ["--model", "events", "--mode", "user_track", "--track-record-type", "custom_events"]
CONCURRENCY, BATCH = 4, 75


def test_sigkill_then_rerun_loses_nothing_and_resends_at_most_the_in_flight(box, emu, run):
    n = 6000
    box.add_model("events", events_sql(n))
    emu.config.latency = 0.02
    env = {**os.environ, **box.env(), **emu.env(), "CI": "1"}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "export_to_braze.py"), *ARGS,
         "--concurrency", str(CONCURRENCY)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(emu.store.events) < n // 4 and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    delivered_before = len(emu.store.events)
    assert n // 4 <= delivered_before < n  # really killed mid-way

    result = run(*ARGS)
    assert result.code == 0, result.err
    counts = collections.Counter(e["external_id"] for e in emu.store.events)
    assert len(counts) == n  # nothing lost
    resent = sum(c - 1 for c in counts.values())
    assert resent <= CONCURRENCY * BATCH  # at most the requests in flight at the kill
    assert result.report["already_delivered"] >= delivered_before - CONCURRENCY * BATCH
    assert result.report["sent"] == n - result.report["already_delivered"]


def test_rerun_after_failures_sends_only_the_failed_rows(box, emu, run):
    box.add_model("events", events_sql(300))
    emu.faults.schedule = {2: 503}
    first = run(*ARGS, "--max-retries", "0", "--concurrency", "1")
    assert first.code == 3
    assert first.report["failed"] == 75 and first.report["sent"] == 225
    emu.faults.schedule = {}
    second = run(*ARGS)
    assert second.code == 0, second.err
    assert second.report["sent"] == 75 and second.report["already_delivered"] == 225
    counts = collections.Counter(e["external_id"] for e in emu.store.events)
    assert len(counts) == 300 and max(counts.values()) == 1


def test_rejected_rows_are_not_marked_delivered(box, emu, run):
    box.add_model("events", events_sql(20))
    emu.config.reject = lambda array, obj: "nope" if obj["external_id"] == "user-5" else None
    assert run(*ARGS).code == 3
    emu.config.reject = None
    second = run(*ARGS)
    assert second.code == 0
    assert second.report["sent"] == 1 and second.report["already_delivered"] == 19


def test_new_rows_only_are_sent_after_the_model_grows(box, emu, run):
    box.add_model("events", events_sql(100))
    assert run(*ARGS).code == 0
    box.add_model("events", events_sql(130))
    second = run(*ARGS)
    assert second.report["sent"] == 30 and second.report["already_delivered"] == 100
    assert len(emu.store.events) == 130


def test_identical_rows_are_distinct_deliveries(box, emu, run):
    box.add_model(
        "events",
        "SELECT 'u1' AS external_id, 'e' AS name, '2024-01-01' AS time FROM range(3)",
    )
    first = run(*ARGS)
    assert first.report["sent"] == 3 and len(emu.store.events) == 3
    second = run(*ARGS)
    assert second.report["sent"] == 0 and second.report["already_delivered"] == 3


def test_key_columns_survive_a_new_column(box, emu, run):
    box.add_model(
        "events",
        "SELECT 'e' || i AS event_id, 'u' || i AS external_id, 'x' AS name, "
        "'2024-01-01' AS time FROM range(10) r(i)",
    )
    r = run(*ARGS, "--key-columns", "event_id")
    assert r.report.get("sent") == 10, r.err
    box.add_model(
        "events",
        "SELECT 'e' || i AS event_id, 'u' || i AS external_id, 'x' AS name, "
        "'2024-01-01' AS time, 1 AS added FROM range(10) r(i)",
    )
    second = run(*ARGS, "--key-columns", "event_id")
    assert second.report["sent"] == 0 and second.report["already_delivered"] == 10


def test_ignore_ledger_resends(box, emu, run):
    box.add_model("events", events_sql(10))
    run(*ARGS)
    second = run(*ARGS, "--ignore-ledger")
    assert second.report["sent"] == 10 and len(emu.store.events) == 20


def test_ledger_is_per_braze_instance(box, emu, run):
    from braze_currents.devtools.emulator import start_emulator

    box.add_model("events", events_sql(10))
    run(*ARGS)
    with start_emulator(api_key=emu.api_key) as other:
        second = run(*ARGS, env={"BRAZE_REST_ENDPOINT": other.url})
        assert second.report["sent"] == 10 and len(other.store.events) == 10


def test_runs_are_recorded(box, emu, run):
    box.add_model("events", events_sql(10))
    run(*ARGS)
    rows = box.execute("SELECT model, mode, exit_code, summary->>'sent' FROM braze_export.runs")
    assert rows == [("events", "user_track:custom_events", 0, "10")]


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_stops_cleanly_with_a_report_and_the_rerun_completes(
    box, emu, run, tmp_path, stop_signal
):
    """CI cancels a job with SIGTERM (a user with Ctrl-C): in-flight batches finish, the
    ledger and the report are written, the exit code says rows were not delivered, and a
    re-run sends the rest once."""
    n = 6000
    box.add_model("events", events_sql(n))
    emu.config.latency = 0.02
    report = tmp_path / "terminated.json"
    env = {**os.environ, **box.env(), **emu.env(), "CI": "1"}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "export_to_braze.py"), *ARGS,
         "--concurrency", str(CONCURRENCY), "--report", str(report)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(emu.store.events) < n // 4 and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(stop_signal)
    process.wait(timeout=60)
    assert process.returncode == 3, process.stderr.read()
    data = json.loads(report.read_text())
    assert data["stopped_reason"] == "interrupted"
    assert 0 < data["sent"] < n
    assert data["sent"] + data["failed"] + data["not_sent"] == n

    result = run(*ARGS)
    assert result.code == 0, result.err
    counts = collections.Counter(e["external_id"] for e in emu.store.events)
    assert len(counts) == n and max(counts.values()) == 1  # a clean stop resends nothing
