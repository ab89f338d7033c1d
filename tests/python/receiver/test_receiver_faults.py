"""Crashes and stops: every body the receiver acknowledged reaches the warehouse, once."""

from __future__ import annotations

import signal

from receiver_testing import landed, load_spool, post

from braze_currents.devtools.poster import make_body
from braze_currents.receiver import spool


def bodies_of(prefix: str, n: int) -> list[bytes]:
    sizes = [1, 5_000, 2, 1_000] + [100] * (n - 4)
    return [make_body(size, tag=f"{prefix}{i:04d}") for i, size in enumerate(sizes)]


def test_sigkill_midway_then_restart_and_load(start_receiver, tmp_path):
    args = ("--rotate-seconds", "0.3", "--rotate-size", "300k")
    r = start_receiver(*args)
    bodies = bodies_of("kill", 600)
    acked = 0

    def kill_midway(answer) -> None:
        nonlocal acked
        acked += answer.acknowledged
        if acked == 150:
            r.proc.send_signal(signal.SIGKILL)

    first = post(r.url, bodies, concurrency=32, on_answer=kill_midway, timeout=10)
    assert r.proc.wait(10) == -signal.SIGKILL
    acknowledged = {a.index for a in first if a.acknowledged}
    assert 150 <= len(acknowledged) < len(bodies)  # killed midway, posts were refused after
    assert list(tmp_path.joinpath("spool").glob("*.open"))  # it died with a file open

    # Braze retries what was not acknowledged, and some acknowledged bodies come again.
    r2 = start_receiver(*args)
    assert any("recovered" in rec.get("message", "") for rec in r2.records())
    retry = sorted(set(range(len(bodies))) - acknowledged) + sorted(acknowledged)[:25]
    second = post(r2.url, [bodies[i] for i in retry], concurrency=16)
    assert [a.status for a in second] == [200] * len(retry)
    assert r2.stop() == 0

    database = tmp_path / "w.duckdb"
    assert load_spool(r2.spool, database) == 0
    counts = landed(database)
    assert {f"kill{i:04d}": 1 for i in range(len(bodies))} == counts
    assert not spool.closed_files(r2.spool)
    assert not list(r2.spool.glob("*.open"))


def test_sigterm_finishes_requests_in_flight_and_closes_the_file(start_receiver, tmp_path):
    r = start_receiver("--rotate-seconds", "3600")
    bodies = bodies_of("term", 300)
    acked = 0

    def stop_midway(answer) -> None:
        nonlocal acked
        acked += answer.acknowledged
        if acked == 60:
            r.proc.send_signal(signal.SIGTERM)

    answers = post(r.url, bodies, concurrency=32, on_answer=stop_midway, timeout=10)
    assert r.proc.wait(30) == 0
    acknowledged = {a.index for a in answers if a.acknowledged}
    assert len(acknowledged) >= 60
    # what was not acknowledged got no answer or a refusal: never a 2xx that is not stored
    assert all(a.status is None or a.status >= 500 for a in answers if not a.acknowledged)
    assert not list(r.spool.glob("*.open"))  # the open file was closed on the way out
    assert any(rec.get("message") == "stopped" for rec in r.records())

    database = tmp_path / "w.duckdb"
    assert load_spool(r.spool, database) == 0
    counts = landed(database)
    assert all(counts.get(f"term{i:04d}") == 1 for i in acknowledged)
    assert set(counts.values()) == {1}
