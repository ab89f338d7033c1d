"""``scripts/generate_currents.py``: write simulated Currents batches to files."""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import ExitStack
from dataclasses import replace
from datetime import date
from pathlib import Path

from braze_currents.devtools.generator import (
    ENVELOPES,
    FAMILIES,
    CurrentsGenerator,
    GeneratorSettings,
)
from braze_currents.devtools.storage_writer import write_records_avro
from braze_currents.devtools.writers import FORMATS, format_of, write_records
from braze_currents.progress import Progress


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="generate_currents.py",
        description="Write simulated Braze Currents batches (seeded: the same flags give the "
        "same bytes) in any format the loader reads.",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        help="file (format from its name: .ndjson, .jsonl, .json, .csv, .tsv, each "
        "optionally .gz) or, with --files, a directory",
    )
    p.add_argument(
        "--files",
        type=_positive,
        default=None,
        help="write this many files into the --output directory",
    )
    p.add_argument(
        "--format", default="ndjson.gz", help="file format with --files (default ndjson.gz)"
    )
    p.add_argument(
        "--events",
        type=int,
        default=10_000,
        help="distinct usable events to generate (default 10000; 0 = run all --days)",
    )
    p.add_argument(
        "--users",
        type=_positive,
        default=None,
        help="users (default: sized so the events fill about --days days)",
    )
    p.add_argument(
        "--days",
        type=_positive,
        default=30,
        help="days simulated (default 30); more when --users is given and --events needs them",
    )
    p.add_argument(
        "--start",
        type=date.fromisoformat,
        default=date(2026, 10, 1),
        help="first simulated day, YYYY-MM-DD (default 2026-10-01)",
    )
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument(
        "--batch-size", type=_positive, default=100, help="events per batch (default 100)"
    )
    p.add_argument(
        "--duplicate-rate",
        type=_rate,
        default=0.02,
        help="share of events delivered twice, as Currents does (default 0.02)",
    )
    p.add_argument(
        "--batch-redelivery-rate",
        type=_rate,
        default=0.0,
        help="share of batches delivered twice whole (default 0)",
    )
    p.add_argument(
        "--malformed-rate",
        type=_rate,
        default=0.0,
        help="share of records that are broken: invalid JSON, no events, events "
        "not an array (default 0)",
    )
    p.add_argument(
        "--bad-event-rate",
        type=_rate,
        default=0.0,
        help="share of events without id or type, or with a bad time (default 0)",
    )
    p.add_argument(
        "--unknown-type-rate",
        type=_rate,
        default=0.0,
        help="share of events of a type no catalogue knows (default 0)",
    )
    p.add_argument(
        "--drift-rate",
        type=_rate,
        default=0.0,
        help="share of events with a new field or a wrongly typed value (default 0)",
    )
    p.add_argument(
        "--families",
        type=lambda text: tuple(f.strip() for f in text.split(",") if f.strip()),
        default=None,
        help="only events of these families, comma-separated, as a Currents connector that "
        f"sends only some (default: all): {', '.join(FAMILIES)}",
    )
    p.add_argument(
        "--envelope",
        choices=ENVELOPES,
        default="http",
        help="http: Custom HTTP connector (user and properties objects, the default); flat: "
        "storage connectors (fields at the top level, custom event and purchase properties "
        "as JSON text); mixed: each event either",
    )
    p.add_argument(
        "--stats",
        type=Path,
        default=None,
        help="also write what was generated (counts per type, faults) as JSON here",
    )
    p.add_argument("--quiet", action="store_true", help="no progress, only the summary")
    p.add_argument(
        "--avro",
        action="store_true",
        help="write the events as Braze's storage connectors do: a tree of Avro files under "
        "the --output directory, event_type=<type>/date=<YYYY-MM-DD-HH>/ (flat envelope; "
        "holds the events in memory)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = GeneratorSettings(
            events=args.events or None,
            users=args.users,
            days=args.days,
            start=args.start,
            seed=args.seed,
            batch_size=args.batch_size,
            duplicate_rate=args.duplicate_rate,
            batch_redelivery_rate=args.batch_redelivery_rate,
            malformed_rate=args.malformed_rate,
            bad_event_rate=args.bad_event_rate,
            unknown_type_rate=args.unknown_type_rate,
            drift_rate=args.drift_rate,
            families=args.families,
            envelope=args.envelope,
        )
        if args.avro:
            settings = replace(settings, envelope="flat")
            paths = [args.output]
        elif args.files:
            suffix = args.format.lstrip(".")
            format_of(Path(f"x.{suffix}"))
            paths = [args.output / f"part-{i:05d}.{suffix}" for i in range(args.files)]
        else:
            format_of(args.output)
            paths = [args.output]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    gen = CurrentsGenerator(settings)
    started = time.monotonic()
    with Progress(settings.events, "generating", unit="events", enabled=not args.quiet) as bar:

        def counted():
            last = 0
            for record in gen.records():
                yield record
                now = gen.stats.distinct_events
                bar.update(now - last)
                last = now

        left_out, files = 0, []
        if args.avro:
            files, left_out = write_records_avro(counted(), args.output)
        elif len(paths) == 1:
            write_records(counted(), paths[0])
        else:
            _write_round_robin(counted(), paths)
    stats = gen.stats.as_dict()
    stats["settings"] = {
        "events": settings.events,
        "users": settings.user_count,
        "days": settings.days,
        "seed": settings.seed,
    }
    stats["files"] = [str(p) for p in (files if args.avro else paths)]
    if args.stats:
        args.stats.parent.mkdir(parents=True, exist_ok=True)
        args.stats.write_text(json.dumps(stats, indent=2) + "\n")
    print(
        f"generated {stats['distinct_events']:,} distinct events "
        f"(+{stats['duplicate_deliveries']:,} duplicate deliveries, "
        f"{sum(stats['bad_events'].values()):,} bad events) in {stats['records']:,} records, "
        f"{settings.user_count:,} users, {len(paths)} file(s), "
        f"{time.monotonic() - started:.1f}s"
    )
    if args.avro:
        print(
            f"  as a storage tree of {len(files):,} Avro files under {args.output}"
            + (f"; {left_out:,} events without a type left out" if left_out else "")
        )
    return 0


def _write_round_robin(records, paths: list[Path]) -> None:
    """Deal records to several files in turn, writing all of them in one pass."""
    import queue
    import threading

    queues = [queue.Queue(maxsize=64) for _ in paths]
    done = object()

    def drain(q):
        while (item := q.get()) is not done:
            yield item

    with ExitStack():
        threads = [
            threading.Thread(target=write_records, args=(drain(q), p))
            for q, p in zip(queues, paths, strict=True)
        ]
        for t in threads:
            t.start()
        for i, record in enumerate(records):
            queues[i % len(queues)].put(record)
        for q in queues:
            q.put(done)
        for t in threads:
            t.join()


__all__ = ["FORMATS", "main"]
