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
from braze_currents.loader import FileResult, InputFile, discover, load_files
from braze_currents.progress import Progress
from braze_currents.receiver import spool
from braze_currents.warehouse import connect

EXIT_OK, EXIT_UNREADABLE = 0, 1
MAX_FILE_ROWS = 12  # files listed one by one in the summary (others: one line, and the log)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="load_currents.py",
        description="Load Braze Currents batches into DuckDB (raw.currents_batches; records "
        "that are not usable batches go to raw.currents_rejected with a reason). "
        "Loading the same input again adds nothing.",
    )
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="files, directories (recursed) or globs: .ndjson/.jsonl (one batch "
        "body per line), .json (a body or an array of bodies), .csv/.tsv (a Treasure "
        "Data export with an `events` column and optionally `time`, or one row per event "
        "with an `id` column), .avro (Braze's storage connectors; a storage tree "
        "event_type=<type>/date=<hour>/ is recursed), each optionally .gz",
    )
    p.add_argument(
        "--database",
        default=None,
        help="DuckDB file (default: $CURRENTS_DUCKDB_PATH, else "
        "warehouse/currents.duckdb under the project root)",
    )
    p.add_argument(
        "--spool",
        type=Path,
        metavar="DIR",
        help="a receiver's spool (scripts/receive_currents.py): load its closed files and move "
        "each loaded one to DIR/loaded/; safe while the receiver runs",
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
        total["repaired"] += r.repaired
        reasons.update(r.rejected)
    if verbose and len(results) > 1:
        lines.append(f"{'file':<60} {'records':>9} {'batches':>9} {'dupes':>7} {'rejected':>9}")
        # A storage tree holds thousands of files: the first ones, those with rejects or
        # errors, then the rest in one line (raw.currents_loads has each).
        listed = [i < MAX_FILE_ROWS or bool(r.error or r.rejected) for i, r in enumerate(results)]
        shown = [r for r, keep in zip(results, listed, strict=True) if keep]
        rest = [r for r, keep in zip(results, listed, strict=True) if not keep]
        for r in shown:
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
        if rest:
            name = f"... {len(rest):,} more file(s) (each in raw.currents_loads)"
            lines.append(
                f"{name:<60} {sum(r.records for r in rest):>9,} "
                f"{sum(r.accepted for r in rest):>9,} {sum(r.duplicates for r in rest):>7,} "
                f"{0:>9,}"
            )
    lines.append(
        f"loaded {total['files']:,} file(s) into {database} in {seconds:.1f}s: "
        f"{total['records']:,} records -> {total['accepted']:,} new batches "
        f"({total['events']:,} events), {total['duplicates']:,} already loaded, "
        f"{total['rejected']:,} rejected"
    )
    failed = [r for r in results if r.error]
    if failed:
        lines.append(f"  {len(failed):,} file(s) not loaded (exit 1):")
        lines.extend(f"    {r.error}" for r in failed)
    if total["blank"]:
        lines.append(f"  {total['blank']:,} blank line(s) skipped")
    if total["bad_time"]:
        lines.append(
            f"  {total['bad_time']:,} record(s) with an unreadable `time` column: received_at "
            "is their load time"
        )
    if total["repaired"]:
        lines.append(
            f"  {total['repaired']:,} batch(es) repaired: lone UTF-16 surrogate escapes replaced "
            "by U+FFFD (see raw.currents_repaired for each, with its original text)"
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if bool(args.inputs) == bool(args.spool):
        parser.error("give INPUT... or --spool DIR (one of the two)")
    database = duckdb_path(args.database)
    if args.spool:
        return load_spool(args.spool, database, quiet=args.quiet)
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


def load_spool(directory: Path, database: Path, quiet: bool = False) -> int:
    """Load the closed files of a receiver's spool, each once: a file loaded without error
    moves to ``loaded/``; one with an error stays for the next run (exit 1)."""
    started = time.monotonic()
    if not directory.is_dir():
        print(f"error: no spool directory {directory}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        with spool.locked(directory, spool.LOADER_LOCK):
            files = [InputFile(p, "ndjson", False) for p in spool.closed_files(directory)]
            try:
                results = load_files(database, files) if files else []
            except duckdb.Error as exc:
                print(f"error: cannot write the warehouse {database}: {exc}", file=sys.stderr)
                return EXIT_UNREADABLE
            failed = 0
            for r in results:
                if r.error:
                    failed += 1
                    print(f"error: {r.error} (left in the spool)", file=sys.stderr)
                else:
                    spool.mark_loaded(Path(r.source_file))
    except spool.SpoolBusy:
        print(f"another load of {directory} is running; nothing done", file=sys.stderr)
        return EXIT_OK
    print(summarize(results, time.monotonic() - started, database, verbose=not quiet))
    left = spool.backlog(directory)
    print(
        f"spool {directory}: {len(results) - failed} file(s) moved to {spool.LOADED_DIR}/, "
        f"{left['files']} closed file(s) waiting"
    )
    return EXIT_UNREADABLE if failed else EXIT_OK
