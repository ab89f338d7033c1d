"""Land Braze Currents batches in DuckDB without loss.

Every input record (an NDJSON line, an element of a JSON file, a row of a Treasure Data CSV
export) ends in exactly one place: ``raw.currents_batches`` when it is a usable batch body,
``raw.currents_rejected`` with a reason when it is not, or, when its batch is already in the
warehouse, nowhere new (it is counted as a duplicate in the summary and in
``raw.currents_loads``). Loading the same input again adds no row.

DuckDB reads and parses; a plain NDJSON file larger than ``PART_BYTES`` is handed to it in
line-aligned parts (``line_parts``), each loaded as a file of its own with the file's name and
line numbers. Python only walks a file itself, line by line, when DuckDB's fast
reader refuses it (a truncated gzip stream, bytes that are not UTF-8, a stray control
character): it then writes what it can read to a clean temporary file for DuckDB and rejects
the rest with the line it came from.

A record DuckDB's JSON parser refuses only because it holds a lone UTF-16 surrogate escape
(``"\\ud800"``: valid JSON per RFC 8259, written by common encoders) is repaired: each lone
surrogate escape becomes ``\\ufffd`` (U+FFFD), the batch lands, and ``raw.currents_repaired``
keeps what was repaired and the record's original text.
"""

from __future__ import annotations

import base64
import csv
import glob
import gzip
import json
import os
import re
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from braze_currents import storage
from braze_currents.warehouse import connect, ensure_raw_schema

SUPPORTED = ("ndjson", "jsonl", "json", "csv", "tsv", "avro")
# Longest record DuckDB's fast reader takes; a longer line sends the file down the careful path,
# which has no limit. DuckDB's CSV reader splits a file into buffers of this size for its threads
# (left to itself, it sizes them from this limit: one buffer, one thread, for a whole day).
MAX_LINE_BYTES = 64 << 20


class InputError(Exception):
    """An input that cannot be read at all (missing, unknown format, not a TD export)."""


class _EventExport(Exception):
    """A CSV/TSV file without an ``events`` column but with an ``id`` column: a one-row-per-event
    export, read by the storage path."""


@dataclass(frozen=True)
class InputFile:
    path: Path
    fmt: str  # ndjson | json | csv | tsv | avro
    gz: bool
    # A part of a larger file (see ``line_parts``): ``path`` is a temporary copy of its lines,
    # ``origin`` the file they come from, ``line_offset`` the lines before them there.
    origin: Path | None = None
    line_offset: int = 0

    @property
    def source_file(self) -> str:
        return str(self.origin or self.path)


@dataclass
class FileResult:
    source_file: str
    records: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: Counter = field(default_factory=Counter)  # reason -> records
    blank_lines: int = 0
    events: int = 0
    bad_time_values: int = 0
    repaired: int = 0  # new batches landed after a repair (raw.currents_repaired)
    recovered: bool = False  # the careful path read the file (or one of its parts)
    parts: int = 1  # line-aligned parts the file was loaded in (see ``line_parts``)
    error: str | None = None
    seconds: float = 0.0

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


# ---- finding the inputs ---------------------------------------------------------------------
def classify(path: Path) -> tuple[str, bool] | None:
    """(format, gzipped) for a supported file name, else None."""
    suffixes = [s.lower().lstrip(".") for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == "gz"
    if gz:
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in SUPPORTED:
        return None
    fmt = suffixes[-1]
    return ("ndjson" if fmt == "jsonl" else fmt), gz


def discover(inputs: list[str]) -> tuple[list[InputFile], list[str], list[str]]:
    """Expand files, directories (recursed) and globs.

    Returns (files to load, errors for inputs that cannot be read, files skipped in
    directories because of their extension)."""
    files: dict[Path, InputFile] = {}
    errors, skipped = [], []

    def add(path: Path, explicit: bool) -> None:
        kind = classify(path)
        if kind is None:
            if explicit:
                errors.append(
                    f"{path}: unknown input format; expected "
                    + ", ".join(f".{s}[.gz]" for s in SUPPORTED)
                )
            else:
                skipped.append(str(path))
            return
        resolved = path.resolve()
        files.setdefault(resolved, InputFile(resolved, *kind))

    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            for sub in sorted(p for p in path.rglob("*") if p.is_file()):
                add(sub, explicit=False)
        elif path.is_file():
            add(path, explicit=True)
        elif path.exists():
            errors.append(f"{path}: not a regular file")
        else:
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                errors.append(f"{item}: no such file, directory or matching glob")
            for m in matches:
                mp = Path(m)
                if mp.is_dir():
                    for sub in sorted(p for p in mp.rglob("*") if p.is_file()):
                        add(sub, explicit=False)
                else:
                    add(mp, explicit=True)
    return list(files.values()), errors, skipped


# ---- reading one file into a relation of records ---------------------------------------------
def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# A record source gives `source_line` NULL when its records come in file order: the number is
# then the record's position, which _classify() keeps (a row_number() here would make DuckDB
# read and parse the whole file on one thread).
def _csv_lines_sql(path: str, compression: str) -> str:
    """Every physical line of a file as one VARCHAR, in order."""
    return f"""
        select null::bigint as source_line, line as body, null::varchar as time_text
        from read_csv({_sql_str(path)}, columns = {{'line': 'VARCHAR'}}, delim = '\\x01',
            quote = '', escape = '', header = false, auto_detect = false,
            max_line_size = {MAX_LINE_BYTES}, buffer_size = {MAX_LINE_BYTES},
            compression = '{compression}',
            store_rejects = true, rejects_table = '_load_rejects', rejects_scan = '_load_scans')
    """


def _json_objects_sql(path: str, compression: str) -> str:
    return f"""
        select null::bigint as source_line, json::varchar as body, null::varchar as time_text
        from read_json_objects({_sql_str(path)}, format = 'auto', compression = '{compression}',
            maximum_object_size = {MAX_LINE_BYTES})
    """


def _td_export_sql(con: duckdb.DuckDBPyConnection, path: str, delim: str, compression: str) -> str:
    """A Treasure Data table export: column `events` (the JSON array as text), optional `time`."""
    options = (
        f"delim = {_sql_str(delim)}, quote = '\"', escape = '\"', header = true, "
        f"all_varchar = true, max_line_size = {MAX_LINE_BYTES}, buffer_size = {MAX_LINE_BYTES}, "
        f"compression = '{compression}'"
    )
    columns = [
        r[0].lower()
        for r in con.execute(
            f"describe select * from read_csv({_sql_str(path)}, {options}, sample_size = 1024)"
        ).fetchall()
    ]
    if "events" not in columns:
        if storage.is_event_export(columns):
            raise _EventExport()
        raise InputError(
            f"{path}: not a Treasure Data export of Currents: no 'events' column, nor an 'id' "
            f"column of a one-row-per-event export (columns: {', '.join(columns) or 'none'})"
        )
    time_col = '"time"' if "time" in columns else "null::varchar"
    return f"""
        select null::bigint as source_line, "events" as body, {time_col} as time_text
        from read_csv({_sql_str(path)}, {options},
            store_rejects = true, rejects_table = '_load_rejects', rejects_scan = '_load_scans')
    """


def _records_sql(con, f: InputFile, path: str | None = None, compression: str | None = None) -> str:
    path = path or str(f.path)
    compression = compression or ("gzip" if f.gz else "none")
    if f.fmt == "ndjson":
        return _csv_lines_sql(path, compression)
    if f.fmt == "json":
        return _json_objects_sql(path, compression)
    return _td_export_sql(con, path, "," if f.fmt == "csv" else "\t", compression)


# The classification of every record, in one parallel pass. For a body (NDJSON, JSON) the record
# text is the whole body; for a TD export it is the events array itself. The temporary table keeps
# the events array of good records and the original text of bad ones, never both; it holds the
# records in file order (the connection preserves insertion order), so a record's position in it
# is its number in the file where the source gives none.
_CLASSIFIED_SQL = """
with records as (
    select
        source_line,
        body,
        time_text,
        -- Blank: empty, or only whitespace. trim() copies the line (seconds per GB), so the
        -- CASE runs it only on lines that start with whitespace.
        case
            when body is null or body = '' then true
            when starts_with(body, ' ') or starts_with(body, chr(9)) or starts_with(body, chr(13))
                then trim(body, ' ' || chr(9) || chr(13)) = ''
            else false
        end as is_blank
    from ({records})
),
parsed as (
    select
        *,
        case when not is_blank and json_valid(body) then
            case when {is_events_column} then json(body) else json_extract(body, '$.events') end
        end as events
    from records
),
classified as (
    select
        source_line, body, events,
        try_cast(time_text as double) as time_value,
        time_text is not null and time_text <> ''
            and try_cast(time_text as double) is null as bad_time,
        case
            when is_blank then 'blank'
            when events is not null and left(ltrim(events::varchar), 1) = '[' then null
            when not json_valid(body) then 'invalid JSON'
            when {is_events_column} then 'events column is not a JSON array (got '
                || {kind_body} || ')'
            when json_type(body) <> 'OBJECT' then 'batch body is not a JSON object (got '
                || {kind_body} || ')'
            when events is null then 'batch body has no "events" field'
            else '"events" is not an array (got ' || {kind_events} || ')'
        end as reason
    from parsed
)
select
    source_line,
    reason,
    case when reason is null then md5(events::varchar) end as batch_id,
    case when reason is null then events end as events,
    case when reason is null then json_array_length(events) end as event_count,
    case when reason is not null and reason <> 'blank' then body end as body,
    time_value,
    bad_time
from classified
"""
_CLASSIFY_SQL = (
    "create or replace temp table _load_records as "
    + _CLASSIFIED_SQL
    + """;
create or replace temp view _load_classified as
select
    -- Row ids of a table filled by one insert are consecutive, in insertion order (inside the
    -- transaction they do not start at 0).
    coalesce(source_line, rowid - (select min(rowid) from _load_records) + 1)
        + {line_offset} as source_line,
    * exclude (source_line)
from _load_records
"""
)


def _json_kind(expr: str) -> str:
    """SQL naming the JSON kind of ``expr`` as JSON does (number, string, ...), not DuckDB."""
    return (
        f"case json_type({expr}) when 'OBJECT' then 'object' when 'ARRAY' then 'array' "
        f"when 'VARCHAR' then 'string' when 'BOOLEAN' then 'boolean' when 'NULL' then 'null' "
        f"else 'number' end"
    )


def _classify_sql(template: str, records_sql: str, f: InputFile) -> str:
    return template.format(
        records=records_sql,
        line_offset=int(f.line_offset),
        is_events_column=str(f.fmt in ("csv", "tsv")),
        kind_body=_json_kind("body"),
        kind_events=_json_kind("events"),
    )


def _classify(con, records_sql: str, f: InputFile, repair_log: list | None = None) -> None:
    """Classify every record of ``records_sql`` into ``_load_records``, repairing those that
    are invalid only for a lone surrogate escape. ``repair_log`` (line, note, original text)
    lists repairs made before DuckDB read the records (a JSON document)."""
    con.execute(_classify_sql(_CLASSIFY_SQL, records_sql, f))
    _repair(con, f, repair_log or [])


# ---- repairs ----------------------------------------------------------------------------------
# In JSON text, left to right: an escaped backslash (skipped whole, so the `u` after it is text),
# a valid surrogate pair (kept), or a lone surrogate escape (replaced).
_SURROGATE_ESCAPES = re.compile(
    r"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}"
)
_LONE_SURROGATE = len("\\ud800")


def repair_lone_surrogates(text: str) -> tuple[str, int]:
    """``text`` (JSON) with every lone UTF-16 surrogate escape replaced by ``\\ufffd``, and how
    many were replaced. Nothing else changes: valid pairs and escaped backslashes stay."""
    count = 0

    def replace(m: re.Match) -> str:
        nonlocal count
        if len(m.group(0)) != _LONE_SURROGATE:
            return m.group(0)
        count += 1
        return "\\ufffd"

    repaired = _SURROGATE_ESCAPES.sub(replace, text)
    return (repaired, count) if count else (text, 0)


def _repair_note(count: int) -> str:
    return f"{count} lone UTF-16 surrogate escape(s) replaced by U+FFFD"


def _repair(con, f: InputFile, repair_log: list) -> None:
    """Repair in ``_load_records`` the records DuckDB's parser refused for a lone surrogate
    escape, and classify them again: an accepted one keeps its events and the repair is noted
    in ``_load_repairs``; one still unusable keeps its original text, and its reason says what
    was tried. Only invalid records that hold such an escape are read into Python."""
    candidates = con.execute(
        r"""
        select rowid, coalesce(source_line, rowid - (select min(rowid) from _load_records) + 1)
            + ?, body
        from _load_records
        where reason = 'invalid JSON' and regexp_matches(body, '\\u[dD][89a-fA-F]')
        """,
        [f.line_offset],
    ).fetchall()
    fixes = []
    for rid, source_line, text in candidates:
        fixed, count = repair_lone_surrogates(text)
        if count:
            fixes.append((rid, source_line, fixed, text, _repair_note(count)))
    con.execute(
        "create or replace temp table _load_repairs "
        "(source_line bigint, repair varchar, raw varchar)"
    )
    if repair_log:
        con.executemany("insert into _load_repairs values (?, ?, ?)", repair_log)
    if not fixes:
        return
    con.execute(
        "create or replace temp table _load_repair_in "
        "(rid bigint, source_line bigint, body varchar, raw varchar, repair varchar)"
    )
    con.executemany("insert into _load_repair_in values (?, ?, ?, ?, ?)", fixes)
    con.execute(
        _classify_sql(
            "create or replace temp table _load_repair_out as " + _CLASSIFIED_SQL,
            "select rid as source_line, body, null::varchar as time_text from _load_repair_in",
            f,
        )
    )
    con.execute(
        """
        update _load_records as r set
            reason = case when o.reason is not null then o.reason || ' (after ' || i.repair || ')'
                     end,
            batch_id = o.batch_id,
            events = o.events,
            event_count = o.event_count,
            body = case when o.reason is not null then r.body end
        from _load_repair_out as o, _load_repair_in as i
        where o.source_line = i.rid and r.rowid = i.rid
        """
    )
    con.execute(
        """
        insert into _load_repairs
        select i.source_line, i.repair, i.raw
        from _load_repair_in as i join _load_repair_out as o on o.source_line = i.rid
        where o.reason is null
        """
    )


def _register(con, result: FileResult, loaded_at: datetime, source_file: str) -> None:
    """Move the classified records of one file into the raw tables; fill in ``result``."""
    # The first copy of each batch in this file that the warehouse does not hold yet.
    con.execute(
        """
        create or replace temp table _load_keep as
        select batch_id, min(source_line) as source_line
        from _load_classified
        where reason is null
          and batch_id not in (select batch_id from raw.currents_batches)
        group by batch_id
        """
    )
    records, blank, bad_time, good, kept = con.execute(
        """
        select
            count(*) filter (where reason is distinct from 'blank'),
            count(*) filter (where reason = 'blank'),
            count(*) filter (where bad_time and reason is null),
            count(*) filter (where reason is null),
            (select count(*) from _load_keep)
        from _load_classified
        """
    ).fetchone()
    inserted_events = con.execute(
        """
        insert into raw.currents_batches
            (batch_id, source_file, source_line, received_at, loaded_at, events, event_count)
        select
            c.batch_id,
            ?,
            c.source_line,
            coalesce(
                case when c.time_value between 0 and 253402300799
                     then make_timestamp((c.time_value * 1000000)::bigint) end,
                ?::timestamp
            ),
            ?::timestamp,
            c.events,
            c.event_count
        from _load_classified as c
        semi join _load_keep as k on c.batch_id = k.batch_id and c.source_line = k.source_line
        returning event_count
        """,
        [source_file, loaded_at, loaded_at],
    ).fetchall()
    result.records += records
    result.blank_lines += blank
    result.bad_time_values += bad_time
    result.accepted += kept
    result.duplicates += good - kept
    result.events += sum(r[0] for r in inserted_events)
    result.repaired += con.execute(
        """
        insert into raw.currents_repaired
            (batch_id, source_file, source_line, repair, raw, repaired_at)
        select k.batch_id, ?, k.source_line, r.repair, r.raw, ?::timestamp
        from _load_repairs as r join _load_keep as k on k.source_line = r.source_line
        """,
        [source_file, loaded_at],
    ).fetchone()[0]
    _reject(
        con,
        source_file,
        loaded_at,
        "select source_line, reason, body from _load_classified "
        "where reason is not null and reason <> 'blank'",
        result,
    )


def _reject(
    con, source_file: str, loaded_at: datetime, select_sql: str, result: FileResult
) -> None:
    """Record rejected records (source_line, reason, raw) once: a reload adds nothing."""
    rows = con.execute(
        f"""
        select reason, count(*) from ({select_sql}) group by reason
        """
    ).fetchall()
    for reason, n in rows:
        result.rejected[reason] += n
    con.execute(
        f"""
        insert into raw.currents_rejected
            (reject_id, source_file, source_line, reason, raw, rejected_at)
        select reject_id, ?, source_line, reason, raw, ?::timestamp
        from (
            select
                md5(concat_ws(chr(31), ?, source_line::varchar, coalesce(body, ''))) as reject_id,
                source_line, reason, body as raw
            from ({select_sql})
        )
        where reject_id not in (select reject_id from raw.currents_rejected)
        """,
        [source_file, loaded_at, source_file],
    )


# ---- the careful path -------------------------------------------------------------------------
class _Truncated(Exception):
    """The gzip stream of an input ends early or is corrupt."""


def _chunks(f: InputFile, size: int = 1 << 20):
    """Decompressed bytes of a file; raises ``_Truncated`` after the last good byte when its
    gzip stream ends early or breaks (``gzip``'s own reader would drop the partial tail), and
    ``InputError`` when not one byte can be decompressed (not gzip, a corrupt header): there is
    then no record to keep, and the file is an error of the run."""
    with open(f.path, "rb") as fh:
        if not f.gz:
            while chunk := fh.read(size):
                yield chunk
            return
        d = zlib.decompressobj(wbits=31)
        started = produced = False
        while data := fh.read(size):
            while data:
                if d.eof:  # a new gzip member follows the last one
                    d = zlib.decompressobj(wbits=31)
                started = True
                try:
                    out = d.decompress(data)
                except zlib.error as exc:
                    if not produced:
                        raise InputError(
                            f"{f.path}: cannot be decompressed: not a gzip file, or its gzip "
                            f"header is corrupt ({exc}); nothing of it was loaded"
                        ) from exc
                    raise _Truncated(f"corrupt gzip stream ({exc})") from exc
                if out:
                    produced = True
                    yield out
                data = d.unused_data if d.eof else b""
        if started and not d.eof:
            if not produced:
                raise InputError(
                    f"{f.path}: cannot be decompressed: the gzip stream ends before its first "
                    "byte of data; nothing of it was loaded"
                )
            raise _Truncated("truncated gzip stream")


def _lines(f: InputFile):
    """(line number, bytes without the newline, complete) for every line; the last line is
    incomplete when the gzip stream broke inside it."""
    buffer = b""
    line_no = 0
    try:
        for chunk in _chunks(f):
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                line_no += 1
                yield line_no, line.rstrip(b"\r"), True
    except _Truncated as exc:
        yield line_no + 1, buffer, False
        raise exc
    if buffer:
        yield line_no + 1, buffer.rstrip(b"\r"), True


@dataclass
class _Salvage:
    """What the careful path read: an intermediate NDJSON file of {n, t, b} records for DuckDB,
    and what it had to reject."""

    path: str
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reason, raw)
    blank_lines: int = 0


def _decode(raw: bytes) -> tuple[str, str | None]:
    """The text of a line, and why it cannot be a record (None when it can)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return raw.decode("utf-8", "backslashreplace"), f"not UTF-8 text (byte {exc.start + 1})"
    return text, None


def _truncation_reason(exc: _Truncated) -> str:
    return f"{exc}: the input ends inside this line"


def _salvage_ndjson(f: InputFile, out_path: str) -> _Salvage:
    s = _Salvage(out_path)
    with open(out_path, "w", encoding="utf-8") as out:
        try:
            for n, raw, complete in _lines(f):
                text, problem = _decode(raw)
                if not complete:
                    continue  # reported by the except clause below, with this line's text
                if problem:
                    s.rejects.append((n, problem, text))
                elif not text.strip():
                    s.blank_lines += 1
                else:
                    out.write(json.dumps({"n": n, "b": text}) + "\n")
        except _Truncated as exc:
            s.rejects.append((n, _truncation_reason(exc), _decode(raw)[0]))
    return s


def _csv_records(f: InputFile) -> tuple[Iterator[list[str]], dict]:
    """A CSV/TSV input read with Python's csv module, line by line through ``_lines``: the
    reader, and a state whose ``problem`` is the first decoding or truncation problem met
    (shared by Treasure Data exports and one-row-per-event exports)."""
    delim = "," if f.fmt == "csv" else "\t"
    state: dict = {"problem": None}

    def texts():
        try:
            for _, raw, complete in _lines(f):
                text, problem = _decode(raw)
                if not complete:
                    problem = "truncated gzip stream: the input ends inside this record"
                state["problem"] = state["problem"] or problem
                yield text + "\n"
        except _Truncated as exc:
            state["problem"] = state["problem"] or _truncation_reason(exc)

    return csv.reader(texts(), delimiter=delim), state


def _salvage_td_export(f: InputFile, out_path: str) -> _Salvage:
    """A TD export read with Python's csv module: records numbered from 1 after the header."""
    s = _Salvage(out_path)
    reader, state = _csv_records(f)
    delim = reader.dialect.delimiter
    header = next(reader, None)
    if header is None:
        return s
    columns = [c.strip().lower() for c in header]
    if "events" not in columns:
        if storage.is_event_export(columns):
            raise _EventExport()
        raise InputError(
            f"{f.path}: not a Treasure Data export of Currents: no 'events' column, nor an 'id' "
            f"column of a one-row-per-event export (columns: {', '.join(columns)})"
        )
    state["problem"] = None
    ev, tm = columns.index("events"), columns.index("time") if "time" in columns else None
    with open(out_path, "w", encoding="utf-8") as out:
        for n, row in enumerate(reader, start=1):
            problem, state["problem"] = state["problem"], None
            raw = delim.join(row)
            if problem is None and len(row) != len(columns):
                problem = f"CSV row has {len(row)} fields, the header {len(columns)}"
            if problem:
                s.rejects.append((n, problem, raw))
                continue
            t = row[tm] if tm is not None else None
            out.write(json.dumps({"n": n, "t": t, "b": row[ev]}) + "\n")
        if state["problem"]:  # the stream broke after the last complete record
            s.rejects.append((n + 1 if header else 1, state["problem"], ""))
    return s


def _salvage_document(f: InputFile) -> list[tuple[int, str, str]]:
    """A JSON document DuckDB could not read: the whole file is one rejected record."""
    parts, reason = [], None
    try:
        for chunk in _chunks(f):
            parts.append(chunk)
    except _Truncated as exc:
        reason = str(exc)
    text, problem = _decode(b"".join(parts))
    if reason is None:
        reason = problem
    if reason is None:
        try:
            json.loads(text)
            reason = "JSON document DuckDB cannot read"
        except ValueError as exc:
            reason = f"invalid JSON ({exc})"
    return [(1, reason, text)]


def _has_surrogate(value) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def _load_repaired_document(con, f: InputFile, loaded_at: datetime, result: FileResult) -> bool:
    """A JSON document DuckDB refused for lone surrogate escapes: loaded from a repaired copy.
    Its repaired records are those whose text holds one; Python's parser (which takes lone
    surrogates) finds them, and its encoder writes their original text (the escapes kept)."""
    try:
        text = b"".join(_chunks(f)).decode("utf-8")
        fixed, count = repair_lone_surrogates(text)
        if not count:
            return False
        doc = json.loads(text)
    except (_Truncated, UnicodeDecodeError, ValueError, RecursionError):
        return False
    records = doc if isinstance(doc, list) else [doc]
    repair_log = []
    for n, record in enumerate(records, start=1):
        if _has_surrogate(record):
            original = json.dumps(record)
            repair_log.append((n, _repair_note(repair_lone_surrogates(original)[1]), original))
    with tempfile.TemporaryDirectory(prefix="currents-load-") as tmp:
        path = os.path.join(tmp, "repaired.json")
        with open(path, "w", encoding="utf-8") as out:
            out.write(fixed)
        try:
            _classify(con, _json_objects_sql(path, "none"), f, repair_log)
        except duckdb.Error:
            return False
        _register(con, result, loaded_at, f.source_file)
    return True


def _salvage_sql(path: str) -> str:
    return f"""
        select n as source_line, b as body, t as time_text
        from read_json({_sql_str(path)}, format = 'newline_delimited',
            columns = {{'n': 'BIGINT', 't': 'VARCHAR', 'b': 'VARCHAR'}},
            maximum_object_size = {MAX_LINE_BYTES})
    """


# ---- loading -----------------------------------------------------------------------------------
def load_file(
    con: duckdb.DuckDBPyConnection,
    f: InputFile,
    loaded_at: datetime,
    earlier: FileResult | None = None,
    log: bool = True,
) -> FileResult:
    """Load one input file (or one part of one) in one transaction. With ``log``, its row of
    ``raw.currents_loads`` is written in the same transaction, counting the ``earlier`` parts
    of the same file too."""
    started = time.monotonic()
    result = FileResult(f.source_file)
    con.execute("begin transaction")
    try:
        try:
            if f.fmt == "avro":
                _storage_path(con, f, loaded_at, result)
            else:
                _fast_path(con, f, loaded_at, result)
        except InputError:
            raise
        except _EventExport:
            con.execute("rollback")
            con.execute("begin transaction")
            result = FileResult(f.source_file)
            _storage_path(con, f, loaded_at, result)
        except duckdb.Error:
            con.execute("rollback")
            con.execute("begin transaction")
            result = FileResult(f.source_file, recovered=True)
            try:
                _careful_path(con, f, loaded_at, result)
            except _EventExport:
                con.execute("rollback")
                con.execute("begin transaction")
                result = FileResult(f.source_file)
                _storage_path(con, f, loaded_at, result)
        if log:
            _log_load(con, _merge(earlier, result) if earlier else result, loaded_at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("checkpoint")  # durable: the connection writes no WAL
    result.seconds = time.monotonic() - started
    return result


# ---- large files: line-aligned parts -----------------------------------------------------------
# A plain NDJSON file larger than this is loaded in parts of about this size, each in its own
# transaction, as if each were a file of its own. DuckDB classifies a file in one query that
# holds all of it: one 7.9 GB file of 10 M events took 215 s at 3.56 GB peak against 69 s for
# the same lines in ten files (DuckDB's memory limit makes it spill).
PART_BYTES = 512 << 20
_SCAN_BYTES = 16 << 20


@dataclass(frozen=True)
class LinePart:
    start: int  # byte offset of its first line
    end: int  # byte offset after its last line (its newline included)
    lines_before: int  # newlines before ``start``: its first line is number lines_before + 1


def line_parts(path: Path, part_bytes: int) -> Iterator[LinePart]:
    """Split ``path`` into parts of at least ``part_bytes`` (the last may be shorter) that end
    at the end of a line, with the number of lines before each. Reads the file once."""
    size = path.stat().st_size
    if size == 0:
        return
    parts = max(1, size // part_bytes)
    target = -(-size // parts)  # equal parts; the newline search makes each a little longer
    with open(path, "rb") as fh:
        start = lines = 0
        while start < size:
            end = start
            newlines = 0
            # Whole blocks up to the target, then up to and including the next newline.
            while end - start < target and end < size:
                block = fh.read(min(_SCAN_BYTES, start + target - end))
                end += len(block)
                newlines += block.count(b"\n")
            while end < size:
                block = fh.read(_SCAN_BYTES)
                cut = block.find(b"\n")
                if cut < 0:
                    end += len(block)
                    newlines += 0
                    continue
                end += cut + 1
                newlines += 1
                fh.seek(end)
                break
            yield LinePart(start, end, lines)
            start, lines = end, lines + newlines


def _copy_range(src: Path, dst: str, start: int, end: int) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        left = end - start
        offset = start
        while left > 0:
            try:
                n = os.copy_file_range(fin.fileno(), fout.fileno(), left, offset)
            except (AttributeError, OSError):  # not Linux, or across file systems
                fin.seek(offset)
                while left > 0:
                    block = fin.read(min(_SCAN_BYTES, left))
                    if not block:
                        break
                    fout.write(block)
                    left -= len(block)
                return
            if n == 0:
                return
            offset += n
            left -= n


def _merge(a: FileResult, b: FileResult) -> FileResult:
    """The result of a file loaded in two parts (or more, folded in)."""
    return replace(
        a,
        records=a.records + b.records,
        accepted=a.accepted + b.accepted,
        duplicates=a.duplicates + b.duplicates,
        rejected=a.rejected + b.rejected,
        blank_lines=a.blank_lines + b.blank_lines,
        events=a.events + b.events,
        bad_time_values=a.bad_time_values + b.bad_time_values,
        repaired=a.repaired + b.repaired,
        recovered=a.recovered or b.recovered,
        error=a.error or b.error,
        seconds=a.seconds + b.seconds,
    )


def _load_in_parts(con, f: InputFile, loaded_at: datetime, parts: list[LinePart]) -> FileResult:
    """Load a large file part after part: each part's lines are copied to a temporary file
    (the kernel copies them, from the page cache) and loaded as a file of their own, with the
    file's name, its line numbers and one ``loaded_at``. A batch of an earlier part is then in
    the warehouse: a later copy is a duplicate, as in a file loaded whole. The file's row of
    ``raw.currents_loads`` is written with its last part."""
    total = replace(FileResult(f.source_file), parts=len(parts))
    with tempfile.TemporaryDirectory(prefix="currents-load-") as tmp:
        for i, part in enumerate(parts):
            # A name of its own per part: DuckDB caches what it read of a file by its name.
            copy = os.path.join(tmp, f"part{i}.ndjson")
            _copy_range(f.path, copy, part.start, part.end)
            piece = InputFile(Path(copy), f.fmt, f.gz, f.path, part.lines_before)
            _drop_reject_tables(con)
            last = i == len(parts) - 1
            result = load_file(con, piece, loaded_at, earlier=total, log=last)
            total = _merge(total, result)
            os.unlink(copy)
    return total


class _NeedsCarefulPath(duckdb.Error):
    pass


def _fast_path(con, f: InputFile, loaded_at: datetime, result: FileResult) -> None:
    records = _records_sql(con, f)
    _classify(con, records, f)
    if f.fmt != "json":
        refused = con.execute(
            "select count(*) from _load_rejects" if _has_table(con, "_load_rejects") else "select 0"
        ).fetchone()[0]
        if refused:
            raise _NeedsCarefulPath(f"DuckDB's reader refused {refused} line(s)")
    _register(con, result, loaded_at, f.source_file)


def _careful_path(con, f: InputFile, loaded_at: datetime, result: FileResult) -> None:
    if f.fmt == "json":
        if _load_repaired_document(con, f, loaded_at, result):
            return
        rejects = _salvage_document(f)
        _insert_salvage_rejects(con, f, loaded_at, rejects, result)
        result.records += len(rejects)
        return
    with tempfile.TemporaryDirectory(prefix="currents-load-") as tmp:
        out_path = os.path.join(tmp, "salvaged.ndjson")
        if f.fmt == "ndjson":
            salvage = _salvage_ndjson(f, out_path)
        else:
            salvage = _salvage_td_export(f, out_path)
        _classify(con, _salvage_sql(out_path), f)
        _register(con, result, loaded_at, f.source_file)
        result.blank_lines += salvage.blank_lines
        rejects = [(n + f.line_offset, reason, raw) for n, reason, raw in salvage.rejects]
        _insert_salvage_rejects(con, f, loaded_at, rejects, result)
        result.records += len(salvage.rejects)


# ---- storage: Avro files and one-row-per-event exports ---------------------------------------
def _storage_path(con, f: InputFile, loaded_at: datetime, result: FileResult) -> None:
    """Storage records become batch bodies of flat events (``braze_currents.storage``), written
    with their numbers to an intermediate NDJSON file that DuckDB classifies and lands as any
    other batches."""
    with tempfile.TemporaryDirectory(prefix="currents-load-") as tmp:
        out_path = os.path.join(tmp, "storage.ndjson")
        if f.fmt == "avro":
            salvage = _avro_to_bodies(f, out_path)
        else:
            salvage = _event_rows_to_bodies(f, out_path)
        # The intermediate file holds whole batch bodies, whatever the input's format.
        _classify(con, _salvage_sql(out_path), replace(f, fmt="ndjson"))
        _register(con, result, loaded_at, f.source_file)
        _insert_salvage_rejects(con, f, loaded_at, salvage.rejects, result)
        result.records += len(salvage.rejects)


def _avro_to_bodies(f: InputFile, out_path: str) -> _Salvage:
    """One body per Avro block, in an intermediate file of its own."""
    s = _Salvage(out_path)
    with open(out_path, "w", encoding="utf-8") as out:

        def write(n: int, t: str | None, text: str) -> None:
            out.write(json.dumps({"n": n, "t": t, "b": text}, ensure_ascii=False) + "\n")

        s.rejects = _read_avro(f, write)
    return s


def _read_avro(f: InputFile, write) -> list[tuple[int, str, str]]:
    """Call ``write(block number, received_at text, body)`` for every block of an Avro file;
    returns the rejects: an unreadable block and what follows it is one reject, its bytes kept
    (base64) with the block's number. Raises ``InputError`` before writing anything when the
    file cannot be read at all."""
    hour = storage.hour_from_path(f.path)
    t = None if hour is None else str(hour)
    opener = gzip.open if f.gz else open
    with opener(f.path, "rb") as stream:
        try:
            for n, text in storage.avro_bodies(stream, f.path):
                write(n, t, text)
        except storage.StorageError as exc:
            raise InputError(str(exc)) from exc
        except (OSError, EOFError, zlib.error) as exc:  # the .gz around the file is broken
            raise InputError(f"{f.path}: cannot read: {exc}") from exc
        except storage.AvroBlockError as exc:
            try:
                if exc.offset is not None:
                    stream.seek(exc.offset)
                rest = stream.read() if exc.offset is not None else b""
            except (OSError, EOFError, zlib.error):
                rest = b""
            raw = "base64:" + base64.b64encode(rest).decode("ascii")
            return [(exc.block, str(exc), raw)]
    return []


# Avro files are many and small (one per event type and hour): they are loaded up to this many,
# or this many bytes, to a transaction, so that a day of a storage connector does not cost
# thousands of transactions and checkpoints.
STORAGE_CHUNK_FILES = 512
STORAGE_CHUNK_BYTES = 64 << 20


def _storage_chunks(files: list[InputFile]) -> list[list[InputFile]]:
    chunks: list[list[InputFile]] = []
    size = 0
    for f in files:
        n = f.path.stat().st_size
        if not chunks or len(chunks[-1]) >= STORAGE_CHUNK_FILES or size + n > STORAGE_CHUNK_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(f)
        size += n
    return chunks


def _load_units(files: list[InputFile]) -> list[list[InputFile]]:
    """What one transaction loads, in the inputs' order: a chunk of consecutive Avro files, or
    any other file alone."""
    units: list[list[InputFile]] = []
    run: list[InputFile] = []
    for f in [*files, None]:
        if f is not None and f.fmt == "avro":
            run.append(f)
            continue
        units.extend(_storage_chunks(run))
        run = []
        if f is not None:
            units.append([f])
    return units


def load_storage_files(
    con: duckdb.DuckDBPyConnection, files: list[InputFile], loaded_at: datetime
) -> list[FileResult]:
    """Load Avro files in one transaction, as ``load_file`` loads one file: every block of every
    file numbered in one intermediate file, classified once, and landed with its own file and
    block number. A file that cannot be read is an error of its own; the others load. When
    DuckDB fails, each file is loaded on its own."""
    started = time.monotonic()
    results = [FileResult(f.source_file) for f in files]
    origin: list[tuple[int, int, int]] = []  # (number in the chunk, file, block)
    rejects: dict[int, list] = {}
    with tempfile.TemporaryDirectory(prefix="currents-load-") as tmp:
        out_path = os.path.join(tmp, "storage.ndjson")
        with open(out_path, "w", encoding="utf-8") as out:
            for i, f in enumerate(files):

                def write(n: int, t: str | None, text: str, i=i) -> None:
                    origin.append((len(origin) + 1, i, n))
                    line = {"n": len(origin), "t": t, "b": text}
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")

                try:
                    rejects[i] = _read_avro(f, write)
                except InputError as exc:
                    results[i].error = str(exc)
        ok = [i for i, r in enumerate(results) if not r.error]
        if not ok:
            return results
        con.execute("begin transaction")
        try:
            _classify(con, _salvage_sql(out_path), InputFile(files[0].path, "ndjson", False))
            _register_chunk(con, results, loaded_at, files, origin)
            for i, rows in rejects.items():
                if rows:
                    _insert_salvage_rejects(con, files[i], loaded_at, rows, results[i])
                    results[i].records += len(rows)
            _log_loads(con, [results[i] for i in ok], loaded_at)
            con.execute("commit")
        except duckdb.Error:
            con.execute("rollback")
            return [results[i] if results[i].error else load_file(con, f, loaded_at)
                    for i, f in enumerate(files)]  # fmt: skip
        except BaseException:
            con.execute("rollback")
            raise
    con.execute("checkpoint")
    seconds = (time.monotonic() - started) / len(files)
    for r in results:
        r.seconds = seconds
    return results


def _register_chunk(con, results, loaded_at, files, origin) -> None:
    """``_register`` for the blocks of several files, numbered in one sequence (``origin``
    maps each number to its file and block): the first copy of a batch is the one of the
    earliest file and block."""
    con.execute(
        "create or replace temp table _load_origin (g bigint, file_no integer, block bigint)"
    )
    con.execute(
        "insert into _load_origin select unnest(?::bigint[]), unnest(?::integer[]), "
        "unnest(?::bigint[])",
        [list(column) for column in zip(*origin, strict=True)] if origin else [[], [], []],
    )
    con.execute("create or replace temp table _load_files (file_no integer, source_file varchar)")
    con.execute(
        "insert into _load_files select unnest(?::integer[]), unnest(?::varchar[])",
        [list(range(len(files))), [f.source_file for f in files]],
    )
    con.execute(
        """
        create or replace temp table _load_keep as
        select batch_id, min(source_line) as source_line
        from _load_classified
        where reason is null
          and batch_id not in (select batch_id from raw.currents_batches)
        group by batch_id
        """
    )
    per_file = con.execute(
        """
        select
            o.file_no,
            count(*) filter (where c.reason is distinct from 'blank'),
            count(*) filter (where c.reason is null),
            count(k.batch_id),
            coalesce(sum(c.event_count) filter (where k.batch_id is not null), 0),
            count(*) filter (where c.reason is not null and c.reason <> 'blank')
        from _load_classified as c
        join _load_origin as o on o.g = c.source_line
        left join _load_keep as k on k.batch_id = c.batch_id and k.source_line = c.source_line
        group by o.file_no
        """
    ).fetchall()
    con.execute(
        """
        insert into raw.currents_batches
            (batch_id, source_file, source_line, received_at, loaded_at, events, event_count)
        select
            c.batch_id,
            f.source_file,
            o.block,
            coalesce(
                case when c.time_value between 0 and 253402300799
                     then make_timestamp((c.time_value * 1000000)::bigint) end,
                ?::timestamp
            ),
            ?::timestamp,
            c.events,
            c.event_count
        from _load_classified as c
        semi join _load_keep as k on c.batch_id = k.batch_id and c.source_line = k.source_line
        join _load_origin as o on o.g = c.source_line
        join _load_files as f on f.file_no = o.file_no
        """,
        [loaded_at, loaded_at],
    )
    for file_no, records, good, kept, events, bad in per_file:
        r = results[file_no]
        r.records += records
        r.accepted += kept
        r.duplicates += good - kept
        r.events += events
        if bad:  # a block whose body DuckDB refused (not expected of bodies json.dumps wrote)
            _reject(
                con,
                r.source_file,
                loaded_at,
                "select o.block as source_line, c.reason, c.body from _load_classified as c "
                f"join _load_origin as o on o.g = c.source_line where o.file_no = {int(file_no)} "
                "and c.reason is not null and c.reason <> 'blank'",
                r,
            )


def _event_rows_to_bodies(f: InputFile, out_path: str) -> _Salvage:
    """A one-row-per-event CSV/TSV export: rows (numbered from 1 after the header) become flat
    events, ``CSV_BATCH_ROWS`` to a batch whose ``source_line`` is its first row; a row that
    cannot be read is rejected with its number."""
    s = _Salvage(out_path)
    reader, state = _csv_records(f)
    delim = reader.dialect.delimiter
    header = next(reader, None)
    if header is None:
        return s
    columns = [c.strip().lower() for c in header]
    path_type = storage.event_type_from_path(f.path) or storage.event_type_from_file_name(f.path)
    if "event_type" not in columns and path_type is None:
        raise InputError(
            f"{f.path}: a one-row-per-event export needs an 'event_type' column, an "
            "event_type=<type> folder in its path, or the type as its name "
            "(users.messages.email.Open.csv)"
        )
    hour = storage.hour_from_path(f.path)
    t = None if hour is None else str(hour)
    state["problem"] = None
    batch: list[dict] = []
    first = 0
    n = 0
    with open(out_path, "w", encoding="utf-8") as out:

        def flush() -> None:
            if batch:
                line = {"n": first, "t": t, "b": storage.body_json(batch)}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                batch.clear()

        for n, row in enumerate(reader, start=1):
            problem, state["problem"] = state["problem"], None
            if problem is None and len(row) != len(columns):
                problem = f"CSV row has {len(row)} fields, the header {len(columns)}"
            if problem:
                s.rejects.append((n, problem, delim.join(row)))
                continue
            if not batch:
                first = n
            batch.append(storage.row_event(columns, row, path_type))
            if len(batch) >= storage.CSV_BATCH_ROWS:
                flush()
        flush()
        if state["problem"]:  # the stream broke after the last complete record
            s.rejects.append((n + 1, state["problem"], ""))
    return s


def _insert_salvage_rejects(con, f, loaded_at, rejects, result: FileResult) -> None:
    if not rejects:
        return
    con.execute(
        "create or replace temp table _load_salvage "
        "(source_line bigint, reason varchar, body varchar)"
    )
    con.executemany("insert into _load_salvage values (?, ?, ?)", rejects)
    _reject(
        con, f.source_file, loaded_at, "select source_line, reason, body from _load_salvage", result
    )


def _has_table(con, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where table_name = ? and temporary", [name]
        ).fetchone()[0]
    )


def _log_load(con, result: FileResult, loaded_at: datetime) -> None:
    _log_loads(con, [result], loaded_at)


def _log_loads(con, results: list[FileResult], loaded_at: datetime) -> None:
    """One ``raw.currents_loads`` row per result, in one statement."""
    columns = [
        [r.source_file for r in results],
        [r.records for r in results],
        [r.accepted for r in results],
        [r.duplicates for r in results],
        [r.rejected_total for r in results],
        [r.blank_lines for r in results],
        [r.events for r in results],
        [r.recovered for r in results],
    ]
    con.execute(
        """
        insert into raw.currents_loads
            (loaded_at, source_file, records, accepted, duplicates, rejected, blank_lines,
             events, recovered)
        select ?::timestamp, unnest(?::varchar[]), unnest(?::bigint[]), unnest(?::bigint[]),
            unnest(?::bigint[]), unnest(?::bigint[]), unnest(?::bigint[]), unnest(?::bigint[]),
            unnest(?::boolean[])
        """,
        [loaded_at, *columns],
    )


def _newest_load(con) -> datetime | None:
    """The newest `loaded_at` in the warehouse (None when it holds no load)."""
    return con.execute(
        "select greatest((select max(loaded_at) from raw.currents_loads), "
        "(select max(loaded_at) from raw.currents_batches))"
    ).fetchone()[0]


def _load_stamp(newest: datetime | None) -> datetime:
    """A new load's `loaded_at` (naive UTC): now, or 1 microsecond after the newest load when
    the clock is not past it (another machine's clock, a clock stepped back). Loads are stamped
    in the order they are loaded: every incremental model reads the loads newer than the newest
    one it holds, and a load stamped earlier would never be read."""
    now = datetime.now(UTC).replace(tzinfo=None)
    if newest is not None and now <= newest:
        return newest + timedelta(microseconds=1)
    return now


def _drop_reject_tables(con) -> None:
    for name in ("_load_rejects", "_load_scans"):
        con.execute(f"drop table if exists {name}")


def _parts_of(f: InputFile) -> list[LinePart]:
    """The parts a file is loaded in: a plain NDJSON file larger than ``PART_BYTES`` is split;
    any other file is one part (a gzip stream cannot be split without reading it whole)."""
    if f.fmt != "ndjson" or f.gz or f.path.stat().st_size <= PART_BYTES:
        return [LinePart(0, -1, 0)]
    return list(line_parts(f.path, PART_BYTES))


def load_files(
    database: Path, files: list[InputFile], progress=None, duckdb_progress: bool = False
) -> list[FileResult]:
    """Load ``files`` into the warehouse at ``database``; one transaction per file (Avro
    files: per chunk of files, see ``load_storage_files``)."""
    con = connect(database, wal=False)  # each file is checkpointed once committed
    try:
        # A record's number in its file is its position in the classified records.
        con.execute("set preserve_insertion_order = true")
        if duckdb_progress:  # DuckDB draws its own bar for long queries on a terminal
            con.execute("set enable_progress_bar = true")
        ensure_raw_schema(con)
        results = []
        newest = _newest_load(con)
        # In the inputs' order (the first loaded copy of an event is kept), consecutive Avro
        # files by chunks, every other file on its own.
        for unit in _load_units(files):
            loaded_at = newest = _load_stamp(newest)
            if unit[0].fmt == "avro":
                try:
                    results.extend(load_storage_files(con, unit, loaded_at))
                except (duckdb.Error, OSError) as exc:
                    results.extend(
                        FileResult(f.source_file, error=f"{f.path}: cannot read: {exc}")
                        for f in unit
                    )
            else:
                [f] = unit
                _drop_reject_tables(con)
                try:
                    parts = _parts_of(f)
                    if len(parts) > 1:
                        results.append(_load_in_parts(con, f, loaded_at, parts))
                    else:
                        results.append(load_file(con, f, loaded_at))
                except InputError as exc:
                    results.append(FileResult(f.source_file, error=str(exc)))
                except (duckdb.Error, OSError) as exc:
                    # One file that cannot be read never stops the others; the run exits 1.
                    results.append(FileResult(f.source_file, error=f"{f.path}: cannot read: {exc}"))
            if progress is not None:
                progress.update(sum(f.path.stat().st_size for f in unit))
        return results
    finally:
        con.close()
