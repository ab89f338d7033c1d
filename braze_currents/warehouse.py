"""The DuckDB warehouse: opening it with the project's settings, and the raw schema."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

# DuckDB settings every project connection uses (the dbt profile sets the same ones). Each can
# be overridden by the environment variable next to it.
SETTINGS = {
    # DuckDB 2.0 analyses every string column for DICT_FSST, which triples the cost of writing
    # JSON text (measured: 10.4 s against 3.3 s for 1 M Currents events); the other methods
    # stay available.
    "disabled_compression_methods": ("CURRENTS_DUCKDB_DISABLED_COMPRESSION", "dict_fsst"),
    "memory_limit": ("CURRENTS_DUCKDB_MEMORY_LIMIT", "3500MB"),
    # DuckDB's checkpoints merge adjacent row groups that are not full ("vacuum"), rewriting
    # them. The project's tables only grow (batches appended, models replaced or appended to),
    # so there is nothing to reclaim, but raw batches are wide (~66 KB a row): a merge rewrote
    # gigabytes of them at the next checkpoint (10 M events, 10 files: 38 s once loaded, and
    # checkpoints of 17 s and 47 s while loading).
    "max_vacuum_tasks": ("CURRENTS_DUCKDB_MAX_VACUUM_TASKS", "0"),
}

RAW_DDL = """
create schema if not exists raw;
create table if not exists raw.currents_batches (
    batch_id varchar not null,        -- md5 of the batch's events array
    source_file varchar not null,     -- absolute path of the input file
    source_line bigint not null,      -- line (NDJSON), element (JSON), data row (CSV), block (Avro)
    received_at timestamp not null,   -- the input's `time` (UTC) where it has one, else loaded_at
    loaded_at timestamp not null,     -- when the file was loaded (UTC), after every earlier load
    events json not null,             -- the batch's `events` array
    event_count integer not null
);
create table if not exists raw.currents_rejected (
    reject_id varchar not null,       -- md5 of (source_file, source_line, raw): reloads add nothing
    source_file varchar not null,
    source_line bigint not null,
    reason varchar not null,
    raw varchar not null,             -- the record's original text
    rejected_at timestamp not null
);
create table if not exists raw.currents_repaired (
    batch_id varchar not null,        -- the batch as landed in raw.currents_batches
    source_file varchar not null,
    source_line bigint not null,
    repair varchar not null,          -- what was repaired, and why
    raw varchar not null,             -- the record's original text
    repaired_at timestamp not null
);
create table if not exists raw.currents_loads (
    loaded_at timestamp not null,
    source_file varchar not null,
    records bigint not null,          -- input records read (blank lines not counted)
    accepted bigint not null,         -- new rows in raw.currents_batches
    duplicates bigint not null,       -- batches already in the warehouse (or twice in the file)
    rejected bigint not null,         -- records that went to raw.currents_rejected
    blank_lines bigint not null,
    events bigint not null,           -- events in the accepted batches
    recovered boolean not null        -- read line by line after DuckDB's reader refused it
);
"""


def connect(path: Path, read_only: bool = False, wal: bool = True) -> duckdb.DuckDBPyConnection:
    """Open (creating its folder if needed) the warehouse file with the project's settings.

    ``wal=False``: changes are not written to the write-ahead log, only to the file itself by
    a checkpoint (the caller checkpoints after each commit that must be durable). For bulk
    loads: a commit otherwise writes all its data to the log first, and the checkpoint writes
    it again (measured: 12.3 s instead of 7.0 s to land 1 M events)."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    if wal or read_only:
        con = duckdb.connect(str(path), read_only=read_only)
    else:
        con = duckdb.connect()
        con.execute("attach ? as warehouse (recovery_mode no_wal_writes)", [str(path)])
        con.execute("use warehouse")
    for name, (env, default) in SETTINGS.items():
        value = os.environ.get(env, default)
        con.execute(f"set {name} = ?", [value])
    threads = os.environ.get("CURRENTS_DUCKDB_THREADS")
    if threads:
        con.execute("set threads = ?", [int(threads)])
    return con


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_DDL)
