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
from braze_currents.generate_cli import main as generate_main
from braze_currents.load_cli import main as load_main

DEMO_INPUTS = PROJECT_ROOT / "warehouse" / "demo-inputs"


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
    from braze_currents.emulator import start_emulator
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

    t = step(
        "2. load it: scripts/load_currents.py "
        + " ".join(str((p if p.is_dir() else p.parent).relative_to(PROJECT_ROOT)) for p in inputs)
    )
    code = load_main([str(p) for p in inputs])
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
