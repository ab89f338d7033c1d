"""``scripts/load_currents.py``: land Currents files in the warehouse and say what happened."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb

from braze_currents.config import duckdb_path
from braze_currents.landing_parquet import LandingError, check_shard, default_shard, export_landing
from braze_currents.loader import FileResult, discover, load_files
from braze_currents.progress import Progress
from braze_currents.warehouse import connect

EXIT_OK, EXIT_UNREADABLE = 0, 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="load_currents.py",
        description="Load Braze Currents batches into DuckDB (raw.currents_batches; records "
        "that are not usable batches go to raw.currents_rejected with a reason). "
        "Loading the same input again adds nothing.",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="files, directories (recursed) or globs: .ndjson/.jsonl (one batch "
        "body per line), .json (a body or an array of bodies), .csv/.tsv (a Treasure "
        "Data export with an `events` column and optionally `time`), each "
        "optionally .gz",
    )
    p.add_argument(
        "--database",
        default=None,
        help="DuckDB file (default: $CURRENTS_DUCKDB_PATH, else "
        "warehouse/currents.duckdb under the project root)",
    )
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    p.add_argument(
        "--landing-parquet",
        metavar="DIR",
        default=None,
        help="also write every load the directory lacks as Parquet files, one set per load "
        "(DIR/currents_batches/, currents_rejected/, currents_loads/), for Spark and other "
        "engines (README, 'Running on Spark')",
    )
    p.add_argument(
        "--landing-shard",
        metavar="NAME",
        default=None,
        help="this loader's name in the Parquet file names (default: the host name); "
        "give each machine that loads its own",
    )
    return p


def summarize(results: list[FileResult], seconds: float, database, verbose: bool) -> str:
    lines = []
    total = Counter()
    reasons: Counter = Counter()
    for r in results:
        total["files"] += 1
        total["records"] += r.records
        total["accepted"] += r.accepted
        total["duplicates"] += r.duplicates
        total["rejected"] += r.rejected_total
        total["events"] += r.events
        total["blank"] += r.blank_lines
        total["bad_time"] += r.bad_time_values
        reasons.update(r.rejected)
    if verbose and len(results) > 1:
        lines.append(f"{'file':<60} {'records':>9} {'batches':>9} {'dupes':>7} {'rejected':>9}")
        for r in results:
            name = r.source_file if len(r.source_file) <= 60 else "..." + r.source_file[-57:]
            note = (
                f"  ERROR: {r.error}"
                if r.error
                else (" (read line by line)" if r.recovered else "")
            )
            lines.append(
                f"{name:<60} {r.records:>9,} {r.accepted:>9,} {r.duplicates:>7,} "
                f"{r.rejected_total:>9,}{note}"
            )
    lines.append(
        f"loaded {total['files']:,} file(s) into {database} in {seconds:.1f}s: "
        f"{total['records']:,} records -> {total['accepted']:,} new batches "
        f"({total['events']:,} events), {total['duplicates']:,} already loaded, "
        f"{total['rejected']:,} rejected"
    )
    if total["blank"]:
        lines.append(f"  {total['blank']:,} blank line(s) skipped")
    if total["bad_time"]:
        lines.append(
            f"  {total['bad_time']:,} record(s) with an unreadable `time` column: received_at "
            "is their load time"
        )
    for reason, n in reasons.most_common():
        lines.append(f"  rejected {n:,}: {reason}")
    if reasons:
        lines.append("  (see raw.currents_rejected for each record, its line and its text)")
    return "\n".join(lines)


def write_landing(database, directory: str, shard: str) -> str:
    """Export the warehouse's loads that ``directory`` lacks as Parquet; the summary line."""
    con = connect(database, read_only=True)
    try:
        return export_landing(con, Path(directory).expanduser().resolve(), shard).summary()
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    database = duckdb_path(args.database)
    shard = None
    if args.landing_parquet:
        try:  # a bad name stops the run before anything is loaded
            shard = check_shard(args.landing_shard or default_shard())
        except LandingError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_UNREADABLE
    started = time.monotonic()
    files, errors, skipped = discover(args.inputs)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    for s in skipped:
        print(f"skipped (not a Currents input format): {s}", file=sys.stderr)
    total_bytes = sum(f.path.stat().st_size for f in files)
    try:
        with Progress(total_bytes, "loading", unit="B", enabled=not args.quiet) as bar:
            results = load_files(database, files, progress=bar, duckdb_progress=bar.on_terminal)
    except duckdb.Error as exc:
        print(f"error: cannot write the warehouse {database}: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    for r in results:
        if r.error:
            errors.append(r.error)
            print(f"error: {r.error}", file=sys.stderr)
    print(summarize(results, time.monotonic() - started, database, verbose=not args.quiet))
    if shard is not None:
        try:
            print(write_landing(database, args.landing_parquet, shard))
        except (LandingError, duckdb.Error) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_UNREADABLE
    return EXIT_UNREADABLE if errors else EXIT_OK
