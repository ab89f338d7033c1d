"""Two exports sharing a ledger never both send: the second stops with a clear message, or
waits (``--lock-timeout``) and then finds everything delivered."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from braze_currents.devtools.sandbox import events_sql
from braze_currents.exporter.lock import ExportLock, LockBusy, lock_path

ROOT = Path(__file__).resolve().parents[3]
ARGS = ["--model", "events", "--mode", "user_track", "--track-record-type", "custom_events"]
SLOW = ["--concurrency", "1", "--progress", "log"]  # 4 requests one after the other


def test_the_lock_is_exclusive_names_its_holder_and_waits(tmp_path):
    path = lock_path(tmp_path / "ledger.duckdb")
    with ExportLock(path, {"model": "events", "run_id": "r1"}):
        with pytest.raises(LockBusy, match="model events, run_id r1") as busy:
            ExportLock(path, {"model": "events"}).acquire()
        assert "--lock-timeout" in str(busy.value)
        started = time.monotonic()
        with pytest.raises(LockBusy, match=r"after waiting 0\.3 s"):
            ExportLock(path, {}, timeout=0.3).acquire()
        assert time.monotonic() - started >= 0.3
    with ExportLock(path, {"model": "other"}) as again:  # released: free again at once
        assert again.waited < 0.2


def _start(box, emu, *extra: str, report: Path) -> subprocess.Popen:
    env = {**os.environ, **box.env(), **emu.env(), "CI": "1"}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "export_to_braze.py"), *ARGS, *SLOW, *extra,
         "--report", str(report)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


class Gate:
    """Holds the emulator's answers until opened: the first export is surely still sending
    (and holding the lock) whatever the machine's load."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.reached = threading.Event()

    def __call__(self, array: str, obj: object) -> None:
        self.reached.set()
        assert self.open.wait(60)
        return None


def _first_export_sending(box, emu, gate: Gate, extra: list[str], tmp_path: Path):
    emu.config.reject = gate
    first = _start(box, emu, *extra, report=tmp_path / "first.json")
    if not gate.reached.wait(60):
        first.kill()
        raise AssertionError(first.communicate())
    return first


@pytest.mark.parametrize("ledger", ["warehouse", "file"])
def test_a_second_export_stops_while_the_first_sends(box, emu, tmp_path, ledger):
    box.add_model("events", events_sql(300))
    extra = ["--ledger", str(tmp_path / "ledger.duckdb")] if ledger == "file" else []
    gate = Gate()
    first = _first_export_sending(box, emu, gate, extra, tmp_path)
    try:
        second = _start(box, emu, *extra, report=tmp_path / "second.json")
        _out, err = second.communicate(timeout=60)
        assert first.poll() is None  # the first is still sending
    finally:
        gate.open.set()
        _first_out, first_err = first.communicate(timeout=60)
    assert second.returncode == 1, err
    assert "another export is using this ledger" in err and "model events" in err
    assert f"pid {first.pid}" in err and "nothing was sent" in err
    assert not (tmp_path / "second.json").exists()
    assert first.returncode == 0, first_err
    counts = collections.Counter(e["external_id"] for e in emu.store.events)
    assert len(counts) == 300 and max(counts.values()) == 1


def test_a_second_export_waits_then_sends_only_what_is_left(box, emu, tmp_path):
    box.add_model("events", events_sql(300))
    ledger = ["--ledger", str(tmp_path / "ledger.duckdb")]
    gate = Gate()
    first = _first_export_sending(box, emu, gate, ledger, tmp_path)
    try:
        second = _start(box, emu, *ledger, "--lock-timeout", "60", report=tmp_path / "second.json")
        seen = ""
        while "waiting up to 60 s" not in seen:  # the second waits for the lock...
            line = second.stderr.readline()
            assert line, seen
            seen += line
        assert first.poll() is None
    finally:
        gate.open.set()  # ...until the first is done
        first.communicate(timeout=60)
    _out, err = second.communicate(timeout=90)
    assert first.returncode == 0 and second.returncode == 0, err
    report = json.loads((tmp_path / "second.json").read_text())
    assert report["sent"] == 0 and report["already_delivered"] == 300
    assert report["ledger"]["skipped_as_delivered"] == 300
    counts = collections.Counter(e["external_id"] for e in emu.store.events)
    assert len(counts) == 300 and max(counts.values()) == 1
