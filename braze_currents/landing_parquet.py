"""The raw landing as Parquet files, so that any engine (Spark, ...) reads what DuckDB landed.

``scripts/load_currents.py --landing-parquet DIR`` calls :func:`export_landing` after loading.
Each load (one ``loaded_at`` stamp: one input file of one loader run) becomes one set of files,
one per raw table, with that table's columns::

    DIR/currents_batches/<loaded_at>-<shard>.parquet    rows of raw.currents_batches
    DIR/currents_rejected/<loaded_at>-<shard>.parquet   rows of raw.currents_rejected
    DIR/currents_loads/<loaded_at>-<shard>.parquet      rows of raw.currents_loads

``<loaded_at>`` is the stamp in UTC (``20261203T200532123456Z``) and ``<shard>`` names the
machine that loaded it, so sets from several loaders never collide. A load's set is written once:
a later export skips every load whose three files exist, and writes the loads the directory
lacks (also those landed before the flag was used). Each file is written under a hidden name
(``.tmp-...``: Spark, Hive and DuckDB's globs skip it) and renamed when complete, the
``currents_loads`` file last, so a set whose loads file exists is complete; a set cut short is
written again by the next export. Each file is read back and its rows counted against the
warehouse's before the next one is written: a mismatch stops the export with an error.

Types: ``events`` (DuckDB JSON) is written as its text; timestamps, which the warehouse holds as
naive UTC, are written as instants in UTC (Parquet ``TIMESTAMP(isAdjustedToUTC=true)``), which
Spark reads as ``timestamp``. Everything else keeps its type.

DuckDB's own ``COPY ... TO (FORMAT parquet)`` writes the files: the warehouse is DuckDB, and
no other library is needed for it.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

# Each raw table with the column that holds its load stamp, in the order a set is written.
TABLES: dict[str, str] = {
    "currents_batches": "loaded_at",
    "currents_rejected": "rejected_at",
    "currents_loads": "loaded_at",
}

_SHARD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


class LandingError(Exception):
    """The landing cannot be written (bad shard name, unwritable directory, short file)."""


@dataclass
class LandingExport:
    directory: Path
    written: list[datetime] = field(default_factory=list)  # loads written by this export
    already: int = 0  # loads whose set was already there
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))

    def summary(self) -> str:
        counts = ", ".join(f"{n:,} {t.removeprefix('currents_')}" for t, n in self.rows.items())
        return (
            f"landing: {len(self.written):,} load(s) written to {self.directory} as Parquet "
            f"({counts}); {self.already:,} already there"
        )


def check_shard(shard: str) -> str:
    """The shard name as it goes into file names: letters, digits, `_`, `.`, `-` (1-63)."""
    if not _SHARD.fullmatch(shard or ""):
        raise LandingError(
            f"shard name {shard!r} must be 1-63 letters, digits, '_', '.' or '-', starting "
            "with a letter or digit"
        )
    return shard


def default_shard() -> str:
    """This machine's host name, reduced to the characters a shard name may hold."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname()).strip("-.")[:63]
    return name or "local"


def file_name(loaded_at: datetime, shard: str) -> str:
    return f"{loaded_at:%Y%m%dT%H%M%S%f}Z-{check_shard(shard)}.parquet"


def load_stamps(con: duckdb.DuckDBPyConnection) -> list[datetime]:
    """Every load stamp found in any raw table, oldest first."""
    union = " union ".join(f"select {col} from raw.{t}" for t, col in TABLES.items())
    return [r[0] for r in con.execute(f"select * from ({union}) order by 1").fetchall()]


def _select(con, table: str) -> str:
    """The table's columns, JSON as text and naive UTC timestamps as instants in UTC."""
    cols = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where schema_name = 'raw' and table_name = ? order by column_index",
        [table],
    ).fetchall()
    exprs = []
    for name, dtype in cols:
        if dtype == "JSON":
            exprs.append(f"{name}::varchar as {name}")
        elif dtype == "TIMESTAMP":
            exprs.append(f"timezone('UTC', {name}) as {name}")
        else:
            exprs.append(name)
    return ", ".join(exprs)


def _query(con, table: str) -> str:
    """The rows of one load of ``table`` (the stamp is the parameter ``$stamp``)."""
    return f"select {_select(con, table)} from raw.{table} where {TABLES[table]} = $stamp"


def _write(con, table: str, stamp: datetime, target: Path) -> int:
    expected = con.execute(
        f"select count(*) from raw.{table} where {TABLES[table]} = ?", [stamp]
    ).fetchone()[0]
    tmp = target.with_name(f".tmp-{target.name}")
    con.execute(
        f"copy ({_query(con, table)}) to '{_quote(tmp)}' (format parquet, compression zstd)",
        {"stamp": stamp},
    )
    written = con.execute(f"select count(*) from read_parquet('{_quote(tmp)}')").fetchone()[0]
    if written != expected:
        tmp.unlink(missing_ok=True)
        raise LandingError(
            f"{target}: wrote {written} rows of raw.{table} for the load of {stamp}, "
            f"the warehouse holds {expected}"
        )
    os.replace(tmp, target)
    return written


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def export_landing(con: duckdb.DuckDBPyConnection, directory: Path, shard: str) -> LandingExport:
    """Write the set of Parquet files of every load of the warehouse that ``directory`` lacks."""
    check_shard(shard)
    directory = Path(directory)
    result = LandingExport(directory)
    try:
        for table in TABLES:
            (directory / table).mkdir(parents=True, exist_ok=True)
        con.execute("set TimeZone = 'UTC'")  # instants written and read back in UTC
        for stamp in load_stamps(con):
            name = file_name(stamp, shard)
            if all((directory / t / name).exists() for t in TABLES):
                result.already += 1
                continue
            for table in TABLES:  # currents_loads last: it marks the set complete
                result.rows[table] += _write(con, table, stamp, directory / table / name)
            result.written.append(stamp)
    except OSError as exc:
        raise LandingError(f"cannot write the Parquet landing in {directory}: {exc}") from exc
    return result
