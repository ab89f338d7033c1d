"""Write Currents input records in every format the loader reads, streaming."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from braze_currents.devtools.generator import Record

FORMATS = ("ndjson", "jsonl", "json", "csv", "tsv")


def format_of(path: Path) -> tuple[str, bool]:
    """(format, gzipped) from a file name such as ``day1.ndjson.gz``."""
    suffixes = [s.lower().lstrip(".") for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == "gz"
    if gz:
        suffixes = suffixes[:-1]
    fmt = suffixes[-1] if suffixes else ""
    if fmt not in FORMATS:
        raise ValueError(
            f"{path}: cannot tell the format from the name; use one of "
            + ", ".join(f".{f}[.gz]" for f in FORMATS)
        )
    return fmt, gz


def _text(record: Record) -> str:
    if record.broken_text is not None:
        return record.broken_text
    return json.dumps(record.body, separators=(",", ":"))


class _ClosingText(io.TextIOWrapper):
    """Text over a GzipFile that also closes the file object the GzipFile writes to."""

    def __init__(self, raw: gzip.GzipFile):
        super().__init__(raw, encoding="utf-8", newline="")
        self._target = raw.fileobj

    def close(self) -> None:
        super().close()
        self._target.close()


def _open(path: Path, gz: bool) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        # No name and mtime=0 in the header: the same flags give the same bytes.
        raw = gzip.GzipFile(
            filename="",
            fileobj=open(path, "wb"),  # noqa: SIM115 - closed by _ClosingText
            mode="wb",
            compresslevel=5,
            mtime=0,
        )
        return _ClosingText(raw)
    return open(path, "w", encoding="utf-8", newline="")


def write_records(records: Iterable[Record], path: Path) -> int:
    """Write ``records`` to ``path`` in the format its name gives; returns records written."""
    fmt, gz = format_of(path)
    n = 0
    with _open(path, gz) as out:
        if fmt in ("ndjson", "jsonl"):
            for record in records:
                out.write(_text(record))
                out.write("\n")
                n += 1
        elif fmt == "json":
            out.write("[")
            for record in records:
                if n:
                    out.write(",\n")
                out.write(_text(record))
                n += 1
            out.write("]\n")
        else:
            writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
            writer.writerow(["time", "events"])
            for record in records:
                events = record.body.get("events") if record.body else None
                cell = record.broken_text if events is None and record.broken_text else events
                if cell is None:
                    cell = json.dumps(record.body, separators=(",", ":"))
                elif not isinstance(cell, str):
                    cell = json.dumps(cell, separators=(",", ":"))
                writer.writerow([record.received_at, cell])
                n += 1
    return n
