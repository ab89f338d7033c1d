"""``make demo``: the main job end to end on generated data, printing what it did.

Generate two weeks of Currents traffic (as a Custom HTTP receiver, a Treasure Data export and
a cloud storage connector would store it), load it, build the warehouse with dbt, and report.
Running it again is safe: the same files are generated, the loader adds nothing, dbt builds
incrementally.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from braze_currents.config import PROJECT_ROOT, duckdb_path
from braze_currents.devtools.generate_cli import main as generate_main
from braze_currents.load_cli import main as load_main

DEMO_INPUTS = PROJECT_ROOT / "warehouse" / "demo-inputs"
DEMO_SPOOL = DEMO_INPUTS / "spool"


def step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.monotonic()


def done(started: float) -> None:
    print(f"   ({time.monotonic() - started:.1f}s)", flush=True)


def generate_inputs() -> list[Path]:
    """The same two weeks: most batches as NDJSON from a Custom HTTP receiver, with the faults
    real data has, a day as a Treasure Data table export (CSV), and a day of other users as
    Braze's storage connectors write it (a tree of Avro files, one per event type and hour)."""
    common = ["--users", "800", "--days", "14", "--events", "0", "--quiet",
              "--duplicate-rate", "0.02", "--batch-redelivery-rate", "0.01",
              "--bad-event-rate", "0.002", "--unknown-type-rate", "0.002",
              "--drift-rate", "0.002"]  # fmt: skip
    ndjson = DEMO_INPUTS / "receiver" / "currents-2026-10.ndjson.gz"
    csv = DEMO_INPUTS / "treasure-data" / "currents_export.csv.gz"
    if not ndjson.exists():
        generate_main(["-o", str(ndjson), "--seed", "1", "--malformed-rate", "0.003", *common])
    if not csv.exists():
        generate_main(["-o", str(csv), "--seed", "2", "--start", "2026-10-15",
                       "--days", "1", "--users", "300", "--events", "0", "--quiet"])  # fmt: skip
    storage = DEMO_INPUTS / "storage"
    if not storage.exists():
        generate_main(["-o", str(storage), "--avro", "--seed", "3", "--start", "2026-10-20",
                       "--days", "1", "--users", "100", "--events", "0", "--quiet"])  # fmt: skip
    return [ndjson, csv, storage]


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*.avro"))
    return path.stat().st_size


def receive_via_http() -> None:
    """Start the receiver on 127.0.0.1, let a local poster play Braze's Custom HTTP connector
    (a day of traffic for 200 users, gzipped, 32 connections; one wrong token; one body that
    is not JSON), then stop it: its spool's closed files are what the loader reads next."""
    import asyncio
    import json
    import secrets
    from datetime import date

    import requests

    from braze_currents.devtools.generator import CurrentsGenerator, GeneratorSettings
    from braze_currents.devtools.poster import post_all
    from braze_currents.devtools.receiver_bench import start_server, stop_server

    settings = GeneratorSettings(events=20_000, users=200, days=1, start=date(2026, 10, 16), seed=3)
    bodies = [
        json.dumps(r.body, separators=(",", ":")).encode()
        for r in CurrentsGenerator(settings).records()
        if r.body
    ]
    token = secrets.token_urlsafe(24)
    env = {**os.environ, "CURRENTS_RECEIVER_TOKEN": token}
    cmd = [sys.executable, str(PROJECT_ROOT / "scripts" / "receive_currents.py"),
           "--spool", str(DEMO_SPOOL), "--port", "0"]  # fmt: skip
    proc, port = start_server(cmd, env)
    url = f"http://127.0.0.1:{port}/"
    try:
        started = time.monotonic()
        answers = asyncio.run(post_all(url, bodies, token=token, concurrency=32, gzip_bodies=True))
        seconds = time.monotonic() - started
        ok = sum(a.acknowledged for a in answers)
        wrong = asyncio.run(post_all(url, bodies[:1], token=token[::-1]))[0].status
        not_json = asyncio.run(post_all(url, [b"<html>not json</html>"], token=token))[0].status
        status = requests.get(
            url + "status", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()
    finally:
        stop_server(proc)
    print(f"   posted {len(bodies):,} gzipped bodies on 32 connections: {ok:,} acknowledged "
          f"(fsync'd) in {seconds:.1f}s; a wrong token got {wrong}, a body that is not JSON "
          f"{not_json} (stored: the loader rejects it)")  # fmt: skip
    print(f"   receiver status: {status['bodies']:,} bodies, {status['events']:,} events, "
          f"{status['bytes'] / 1e6:.1f} MB, refused {status['refused']}")  # fmt: skip


def run_dbt(*args: str) -> None:
    dbt = Path(sys.executable).parent / "dbt"
    proc = subprocess.run([str(dbt), *args], cwd=PROJECT_ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed (exit {proc.returncode})")


def report(database: Path) -> None:
    con = duckdb.connect(str(database), read_only=True)
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    batches, events = q("select count(*), sum(event_count) from raw.currents_batches")[0]
    rejected = q("select count(*) from raw.currents_rejected")[0][0]
    stream = q("select count(*) from staging.stg_braze_currents__events")[0][0]
    invalid = q("select count(*) from staging.stg_braze_currents__invalid_events")[0][0]
    types = q("select count(distinct event_type) from staging.stg_braze_currents__events")[0][0]
    print(
        f"   landed    {batches:,} batches holding {events:,} events; {rejected:,} records rejected"
    )
    print(f"   staged    {stream:,} distinct events of {types} types; {invalid:,} unusable kept")
    print(f"   duplicates removed: {events - stream - invalid:,} re-delivered copies")
    print("\n   events per type (top 8):")
    for event_type, n in q(
        "select event_type, count(*) from staging.stg_braze_currents__events "
        "group by 1 order by 2 desc limit 8"
    ):
        print(f"     {n:>9,}  {event_type}")
    con.close()


EXPORT_MODEL = "export_braze_user_attributes"


def export_to_emulator(database: Path) -> int:
    """Export the user-attributes mart to a local Braze emulator, then again: the second run
    finds nothing changed and sends nothing."""
    from braze_currents.devtools.emulator import start_emulator
    from braze_currents.exporter.cli import main as export_main

    report_path = PROJECT_ROOT / "warehouse" / "demo-export-report.json"
    with start_emulator() as emu:
        saved = {k: os.environ.get(k) for k in ("BRAZE_REST_ENDPOINT", "BRAZE_API_KEY")}
        os.environ.update(emu.env())
        try:
            for attempt in ("first export", "the same export again"):
                print(f"   -- {attempt}")
                code = export_main([
                    "--model", EXPORT_MODEL, "--mode", "user_track",
                    "--track-record-type", "user_attributes", "--delta",
                    "--database", str(database), "--report", str(report_path),
                    "--progress", "log",
                ])  # fmt: skip
                if code != 0:
                    return code
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        users = len({a.get("external_id") for a in emu.store.attributes})
        print(f"   the emulator holds attributes of {users:,} users")
    print(f"   report: {report_path.relative_to(PROJECT_ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    database = duckdb_path()
    os.environ.setdefault("CURRENTS_DUCKDB_PATH", str(database))
    total = time.monotonic()
    print(f"Braze Currents warehouse demo -> {database}")

    t = step("1. generate two weeks of Currents traffic for 800 users (seeded)")
    inputs = generate_inputs()
    for p in inputs:
        print(f"   {p.relative_to(PROJECT_ROOT)}  ({_size(p) / 1e6:.1f} MB)")
    done(t)

    spool = DEMO_SPOOL.relative_to(PROJECT_ROOT)
    t = step(f"1b. receive a day more over HTTP: scripts/receive_currents.py --spool {spool}")
    receive_via_http()
    done(t)

    t = step(
        "2. load it: scripts/load_currents.py "
        + " ".join(str((p if p.is_dir() else p.parent).relative_to(PROJECT_ROOT)) for p in inputs)
        + f", then --spool {spool}"
    )
    code = load_main([str(p) for p in inputs]) or load_main(["--spool", str(DEMO_SPOOL)])
    if code != 0:
        return code
    done(t)

    t = step("3. build the warehouse: dbt build")
    run_dbt("build")
    done(t)

    t = step("4. what is in it")
    report(database)
    done(t)

    t = step(f"5. export {EXPORT_MODEL} to a local Braze emulator (user_attributes, --delta)")
    code = export_to_emulator(database)
    if code != 0:
        return code
    done(t)

    print(f"\nDone in {time.monotonic() - total:.0f}s. Query it (docs/analyst-guide.md has more):")
    print(
        f"   .venv/bin/python -c \"import duckdb; duckdb.connect('{database}').sql("
        "'select channel, action, count(*) from marts.fct_message_engagement "
        "group by all order by 3 desc limit 10').show()\""
    )
    return 0
