"""The delivery ledger: in the warehouse (schema ``braze_export``, the default) or in a DuckDB
file of its own (``--ledger PATH``, attached as catalog ``braze_ledger``), so that a CI job keeps
a few megabytes between runs rather than the whole warehouse.

- ``deliveries``: one row per source row Braze acknowledged, by export key (model, mode,
  Braze instance), row hash and occurrence. The stream query skips these rows, so a re-run
  sends only what was not acknowledged: an event or a purchase is never sent twice by a re-run.
- ``attribute_state``: for user attributes, the last acknowledged value of every attribute of
  every user; ``--delta`` compares against it and sends only what changed.
- ``runs``: one row per export run with its summary.
- ``ledger_format``: the format's version (``FORMAT_VERSION``), one row per creation or
  migration. Format 1 is the layout before it was versioned (the first three tables alone):
  it is migrated to 2 by adding this table. A ledger of a later format, or with tables of
  another shape, is refused (``LedgerFormatError``), never read as if it were empty.

Acknowledgements are made durable as they arrive through a write-ahead journal next to the
ledger (``<ledger file>.braze_export_journal/``): the sending thread appends its batch's lines
itself, in one ``write`` that a SIGKILL of the process cannot undo, and one thread fsyncs the
file behind it (group commit: whatever was written during one fsync goes into the next). A
sending thread sends its next batch while that fsync runs, but records no other batch before it
is done: a SIGKILL loses no acknowledged row (a re-run resends at most the requests that were in
flight), and a power cut at most one more batch per thread. The journal goes into the tables in
one transaction per journal file: the part written by the time the last rows are read while the
last requests are in flight (``LedgerWriter.rotate``), the rest at the end of the run, or all of
it at the start of the next run when the previous one was killed. (An fsync'd append costs a
tenth of the CPU of a DuckDB commit, which matters at a thousand requests a second.)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from braze_currents.exporter.batching import Batch, Item, journal_line

SCHEMA = "braze_export"
FORMAT_VERSION = 2  # 1: deliveries, attribute_state, runs; 2: + ledger_format
LEDGER_CATALOG = "braze_ledger"  # a --ledger file, attached to the warehouse's connection

log = logging.getLogger(__name__)


class LedgerFormatError(Exception):
    """The ledger cannot be used as it is: a later format, or tables this exporter does not
    know. Nothing is sent."""


@dataclass(frozen=True)
class Tables:
    """The ledger's tables, in the warehouse (``catalog`` None) or in an attached file."""

    catalog: str | None = None

    def _name(self, table: str) -> str:
        return f"{self.catalog}.{SCHEMA}.{table}" if self.catalog else f"{SCHEMA}.{table}"

    @property
    def schema(self) -> str:
        return f"{self.catalog}.{SCHEMA}" if self.catalog else SCHEMA

    @property
    def deliveries(self) -> str:
        return self._name("deliveries")

    @property
    def attribute_state(self) -> str:
        return self._name("attribute_state")

    @property
    def runs(self) -> str:
        return self._name("runs")

    @property
    def format(self) -> str:
        return self._name("ledger_format")


IN_WAREHOUSE = Tables()
DELIVERIES = IN_WAREHOUSE.deliveries
ATTRIBUTE_STATE = IN_WAREHOUSE.attribute_state
RUNS = IN_WAREHOUSE.runs

# Format 1's tables and columns, in order: what a ledger written before the format was
# versioned holds, and what format 2 keeps unchanged.
FORMAT_1_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "deliveries": (
        ("export_key", "VARCHAR NOT NULL"),
        ("row_hash", "VARCHAR NOT NULL"),
        ("occurrence", "BIGINT NOT NULL"),
        ("run_id", "VARCHAR NOT NULL"),
        ("acked_at", "TIMESTAMP NOT NULL"),
    ),
    "attribute_state": (
        ("export_key", "VARCHAR NOT NULL"),
        ("user_key", "VARCHAR NOT NULL"),
        ("attributes", "VARCHAR NOT NULL"),
        ("seq", "BIGINT NOT NULL"),
        ("run_id", "VARCHAR NOT NULL"),
        ("acked_at", "TIMESTAMP NOT NULL"),
    ),
    "runs": (
        ("run_id", "VARCHAR NOT NULL"),
        ("export_key", "VARCHAR NOT NULL"),
        ("model", "VARCHAR NOT NULL"),
        ("relation", "VARCHAR"),
        ("mode", "VARCHAR NOT NULL"),
        ("started_at", "TIMESTAMP NOT NULL"),
        ("finished_at", "TIMESTAMP"),
        ("exit_code", "INTEGER"),
        ("summary", "JSON"),
    ),
}
FORMAT_TABLE_DDL = (
    "version INTEGER NOT NULL, written_by VARCHAR NOT NULL, migrated_from INTEGER, "
    "recorded_at TIMESTAMP NOT NULL"
)


def export_key(model: str, label: str, endpoint: str | None) -> str:
    """What the ledger is kept per: the model, the mode and the Braze instance."""
    return f"{model}|{label}|{endpoint or '-'}"


def _tables_exist(con: duckdb.DuckDBPyConnection, *tables: str) -> bool:
    """Whether all ``tables`` exist: binding them is the cheapest way to ask (a first look at
    the catalog through information_schema or duckdb_tables() costs 10-20 ms)."""
    try:
        con.execute(f"SELECT 1 FROM {', '.join(tables)} LIMIT 0")
    except duckdb.CatalogException:
        return False
    return True


def _columns(con: duckdb.DuckDBPyConnection, tables: Tables, table: str) -> list[str]:
    database = tables.catalog or con.execute("SELECT current_database()").fetchone()[0]
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
        "AND table_name = ? ORDER BY column_index",
        [database, SCHEMA, table],
    ).fetchall()
    return [r[0] for r in rows]


def _write_format_row(
    con: duckdb.DuckDBPyConnection, tables: Tables, migrated_from: int | None
) -> None:
    con.execute(
        f"INSERT INTO {tables.format} VALUES (?, 'braze_currents exporter', ?, now())",
        [FORMAT_VERSION, migrated_from],
    )


def check_format(
    con: duckdb.DuckDBPyConnection, tables: Tables, where: str, read_only: bool = False
) -> tuple[int | None, int | None]:
    """Makes sure the ledger at ``tables`` is one this exporter reads and writes: creates it
    when there is none (unless ``read_only``), migrates format 1, and raises LedgerFormatError
    for anything else. Returns (format, the format it was migrated from): (None, None) when
    there is no ledger and ``read_only``. ``where`` names the ledger in messages."""
    names = {"deliveries": tables.deliveries, "attribute_state": tables.attribute_state}
    names["runs"] = tables.runs
    if _tables_exist(con, tables.format, *names.values()):  # the usual case: one bind
        version = con.execute(f"SELECT max(version) FROM {tables.format}").fetchone()[0]
        if version == FORMAT_VERSION:
            return version, None
        if version is None:
            raise LedgerFormatError(
                f"the ledger {where} has an empty {tables.format} table: it is damaged; "
                "restore it from a backup, or move it away to start afresh (every row "
                "would then be sent again)"
            )
        if version > FORMAT_VERSION:
            raise LedgerFormatError(
                f"the ledger {where} is in format {version}, written by a later version of "
                f"the exporter; this one reads format {FORMAT_VERSION} and older: upgrade it "
                "(nothing was sent)"
            )
        raise LedgerFormatError(  # no format between 1 (unversioned) and FORMAT_VERSION
            f"the ledger {where} is in format {version}, which this exporter does not know"
        )
    present = [t for t, name in names.items() if _tables_exist(con, name)]
    has_format = _tables_exist(con, tables.format)
    if not present and not has_format:
        if read_only:
            return None, None
        # One transaction: a run stopped half-way leaves no partial ledger, and DuckDB's log is
        # synced once rather than once per table.
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {tables.schema}")
            for table, columns in FORMAT_1_TABLES.items():
                body = ", ".join(f"{c} {t}" for c, t in columns)
                con.execute(f"CREATE TABLE IF NOT EXISTS {tables.schema}.{table} ({body})")
            con.execute(f"CREATE TABLE IF NOT EXISTS {tables.format} ({FORMAT_TABLE_DDL})")
            _write_format_row(con, tables, None)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        return FORMAT_VERSION, None
    missing = [t for t in names if t not in present]
    if missing or has_format:
        raise LedgerFormatError(
            f"the ledger {where} is incomplete: it lacks {', '.join(missing)}; restore it from "
            "a backup, or move it away to start afresh (every row would then be sent again)"
        )
    for table, columns in FORMAT_1_TABLES.items():  # format 1, or something else
        found = _columns(con, tables, table)
        if found != [c for c, _ in columns]:
            raise LedgerFormatError(
                f"the ledger {where} is not recognised: {tables.schema}.{table} has columns "
                f"{found}, format 1 has {[c for c, _ in columns]}"
            )
    if read_only:  # format 1 is read as it is
        return 1, None
    con.execute(f"CREATE TABLE {tables.format} ({FORMAT_TABLE_DDL})")
    _write_format_row(con, tables, 1)
    log.info("ledger %s: migrated from format 1 to format %d", where, FORMAT_VERSION)
    return FORMAT_VERSION, 1


def attach(con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> Tables:
    """Attaches the ledger file ``path`` (created when missing, unless ``read_only``)."""
    literal = "'" + str(path).replace("'", "''") + "'"
    mode = " (READ_ONLY)" if read_only else " (READ_WRITE)"  # not the warehouse's mode
    try:
        con.execute(f"ATTACH {literal} AS {LEDGER_CATALOG}{mode}")
    except duckdb.Error as exc:
        raise LedgerFormatError(f"cannot open the ledger {path}: {exc}") from None
    return Tables(LEDGER_CATALOG)


def ensure_schema(con: duckdb.DuckDBPyConnection, tables: Tables = IN_WAREHOUSE) -> None:
    check_format(con, tables, "in the warehouse" if tables.catalog is None else tables.catalog)


def ledger_exists(con: duckdb.DuckDBPyConnection, tables: Tables = IN_WAREHOUSE) -> bool:
    return _tables_exist(con, tables.deliveries, tables.attribute_state)


def acknowledged(con: duckdb.DuckDBPyConnection, key: str, tables: Tables = IN_WAREHOUSE) -> int:
    """Rows of this export Braze acknowledged so far (some may have left the model since)."""
    return int(
        con.execute(
            f"SELECT count(*) FROM {tables.deliveries} WHERE export_key = ?", [key]
        ).fetchone()[0]
    )


def has_history(con: duckdb.DuckDBPyConnection, key: str, tables: Tables = IN_WAREHOUSE) -> bool:
    """Whether the ledger holds a run, a delivery or an attribute state of this export: False
    means it has never seen it (a first run, or a lost ledger)."""
    return bool(
        con.execute(
            f"SELECT EXISTS (SELECT 1 FROM {tables.runs} WHERE export_key = $1) "
            f"OR EXISTS (SELECT 1 FROM {tables.deliveries} WHERE export_key = $1) "
            f"OR EXISTS (SELECT 1 FROM {tables.attribute_state} WHERE export_key = $1)",
            [key],
        ).fetchone()[0]
    )


def copy_ledger(con: duckdb.DuckDBPyConnection, source: Tables, target: Tables) -> int:
    """Copies every row of the ledger at ``source`` into the empty one at ``target`` (one
    transaction); returns the deliveries copied."""
    con.execute("BEGIN TRANSACTION")
    try:
        copied = int(
            con.execute(
                f"INSERT INTO {target.deliveries} SELECT * FROM {source.deliveries}"
            ).fetchone()[0]
        )
        con.execute(f"INSERT INTO {target.attribute_state} SELECT * FROM {source.attribute_state}")
        con.execute(f"INSERT INTO {target.runs} SELECT * FROM {source.runs}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return copied


def record_run_start(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    key: str,
    model: str,
    relation: str,
    mode: str,
    tables: Tables = IN_WAREHOUSE,
) -> None:
    con.execute(
        f"INSERT INTO {tables.runs} (run_id, export_key, model, relation, mode, started_at) "
        "VALUES (?, ?, ?, ?, ?, now())",
        [run_id, key, model, relation, mode],
    )


def record_run_end(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    exit_code: int,
    summary: dict,
    tables: Tables = IN_WAREHOUSE,
) -> None:
    con.execute(
        f"UPDATE {tables.runs} SET finished_at = now(), exit_code = ?, summary = ? "
        "WHERE run_id = ?",
        [exit_code, json.dumps(summary), run_id],
    )


def compact_state(con: duckdb.DuckDBPyConnection, key: str, tables: Tables = IN_WAREHOUSE) -> None:
    """Keeps only the latest attribute state per user of this export."""
    con.execute(
        f"DELETE FROM {tables.attribute_state} AS a WHERE a.export_key = $1 AND a.seq < ("
        f"SELECT max(b.seq) FROM {tables.attribute_state} AS b "
        "WHERE b.export_key = a.export_key AND b.user_key = a.user_key)",
        [key],
    )


def journal_dir(ledger_file: Path) -> Path:
    """The journal of the ledger in ``ledger_file`` (the warehouse, or the --ledger file)."""
    return ledger_file.with_name(ledger_file.name + ".braze_export_journal")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class _Segment:
    """One journal file, open for appending."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = path, fd


class _Rotate:
    """A request to the syncing thread: start a new journal file, hand back the closed one."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.closed: Path | None = None


class LedgerWriter:
    """Records acknowledged items from any thread: the recording thread appends their lines to
    the run's journal itself (one ``write``, which a SIGKILL of the process cannot undo), and
    one thread fsyncs the journal behind it, in groups (whatever was written during one fsync
    goes into the next); ``record`` returns an event set once the lines are on disk.

    The journal is one or more files, ``<run id>.<n>.journal`` in order: ``rotate`` closes the
    current one (everything in it is durable) and starts the next, so that the closed one can
    go into the ledger tables while the run goes on."""

    def __init__(
        self,
        directory: Path,
        key: str,
        run_id: str,
        on_error: Callable[[str], None] | None = None,
        attribute_state: bool = True,
    ) -> None:
        directory.mkdir(exist_ok=True)
        self._directory = directory
        header = {"export_key": key, "run_id": run_id}
        if not attribute_state:  # no line will carry a user's attributes (apply_journal)
            header["attribute_state"] = False
        self._header = (json.dumps(header) + "\n").encode()
        self._run_id = run_id
        self._number = 0
        self._segment = self._open_segment()
        self._lock = threading.Lock()  # the current segment, the writes and what awaits fsync
        self._unsynced: list[threading.Event] = []
        self._rotations: list[_Rotate] = []
        self._closing = False
        self._wake = threading.Event()
        self._on_error = on_error
        self.commits = 0  # fsyncs that made recorded lines durable
        self.recorded = 0
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="ledger-sync", daemon=True)
        self._thread.start()

    @property
    def path(self) -> Path:
        """The journal file being written."""
        return self._segment.path

    def _open_segment(self) -> _Segment:
        path = self._directory / f"{self._run_id}.{self._number:06d}.journal"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            _write_all(fd, self._header)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        with contextlib.suppress(OSError):  # make the new file's name durable too
            dir_fd = os.open(self._directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return _Segment(path, fd)

    def record(self, delivered: Batch | Sequence[Item]) -> threading.Event:
        """Appends acknowledged items (a whole batch, or some of its items) to the journal; the
        event is set once they are durable (or the ledger failed, see ``error``)."""
        done = threading.Event()
        if isinstance(delivered, Batch):
            count, text = len(delivered), delivered.journal()
        else:
            count, text = len(delivered), "".join(map(journal_line, delivered))
        if not count:
            done.set()
            return done
        data = text.encode()
        with self._lock:
            if self.error is None:
                try:
                    _write_all(self._segment.fd, data)
                except OSError as exc:
                    self._fail(exc)
                else:
                    self.recorded += count
                    self._unsynced.append(done)
                    self._wake.set()
                    return done
        done.set()
        return done

    def rotate(self) -> Path | None:
        """Closes the current journal file, whose every line is then durable, and goes on in a
        new one; returns the closed file (None if the ledger failed)."""
        request = _Rotate()
        with self._lock:
            self._rotations.append(request)
            self._wake.set()
        request.done.wait()
        return request.closed

    def close(self) -> None:
        """Makes everything recorded so far durable and stops the thread."""
        with self._lock:
            self._closing = True
            self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                self._wake.clear()
                segment, waiting = self._segment, self._unsynced
                self._unsynced = []
                rotations, self._rotations = self._rotations, []
                closing = self._closing
            if waiting:
                self._sync(segment, waiting)
            for request in rotations:
                self._rotate(request)
            if closing:
                with self._lock:
                    segment, waiting = self._segment, self._unsynced
                    self._unsynced = []
                self._sync(segment, waiting)
                os.close(segment.fd)
                return

    def _sync(self, segment: _Segment, waiting: list[threading.Event]) -> None:
        try:
            if waiting and self.error is None:
                os.fsync(segment.fd)
                self.commits += 1
        except OSError as exc:
            with self._lock:
                self._fail(exc)
        finally:
            for done in waiting:
                done.set()

    def _rotate(self, request: _Rotate) -> None:
        try:
            if self.error is not None:
                return
            self._number += 1
            try:
                new = self._open_segment()
            except OSError as exc:
                with self._lock:
                    self._fail(exc)
                return
            with self._lock:  # lines written from now on go to the new file
                old, self._segment = self._segment, new
                late, self._unsynced = self._unsynced, []
            self._sync(old, late)
            os.close(old.fd)
            if self.error is None:
                request.closed = old.path
        finally:
            request.done.set()

    def _fail(self, exc: OSError) -> None:
        """Called with the lock held."""
        if self.error is None:
            self.error = f"cannot write the delivery journal {self._segment.path}: {exc}"
            log.error("%s", self.error)
            if self._on_error:
                self._on_error(self.error)


def _journal_header(path: Path) -> dict | None:
    """The header of a journal, after cutting a torn last line (the process died while writing
    it: that batch was never durable, so never counted as delivered)."""
    with open(path, "r+b") as f:
        head = f.readline()
        if not head.endswith(b"\n"):
            return None
        end = f.seek(0, os.SEEK_END)
        cut = end
        while cut > len(head):  # walk back to the last newline
            start = max(len(head), cut - 65536)
            f.seek(start)
            found = f.read(cut - start).rfind(b"\n")
            if found >= 0:
                cut = start + found + 1
                break
            cut = start
        if cut != end:
            f.truncate(cut)
    return json.loads(head)


JOURNAL_SQL = (
    "SELECT row_hash, occurrence, json_extract_string(user_key, '$') AS user_key, "
    "json_extract_string(state, '$') AS state FROM read_csv($path, skip = 1, delim = '\t', "
    "header = false, quote = '', escape = '', auto_detect = false, columns = {'row_hash': "
    "'VARCHAR', 'occurrence': 'BIGINT', 'user_key': 'VARCHAR', 'state': 'VARCHAR'})"
)


def apply_journals(
    con: duckdb.DuckDBPyConnection, directory: Path, tables: Tables = IN_WAREHOUSE
) -> int:
    """Moves every journal in ``directory`` into the ledger tables (one transaction each, read
    by DuckDB's CSV reader) and deletes it. Returns the number of deliveries applied."""
    if not directory.is_dir():
        return 0
    return sum(apply_journal(con, path, tables) for path in sorted(directory.glob("*.journal")))


def apply_journal(con: duckdb.DuckDBPyConnection, path: Path, tables: Tables = IN_WAREHOUSE) -> int:
    """Moves one journal file into the ledger tables in one transaction and deletes it.
    Returns the number of deliveries applied."""
    header = _journal_header(path)
    applied = 0
    if header:
        params = {"path": str(path), "key": header["export_key"], "run": header["run_id"]}
        con.execute("BEGIN TRANSACTION")
        try:
            applied = int(
                con.execute(
                    f"INSERT INTO {tables.deliveries} "
                    f"SELECT $key, row_hash, occurrence, $run, now() FROM ({JOURNAL_SQL})",
                    params,
                ).fetchone()[0]  # DuckDB answers an INSERT with the rows it inserted
            )
            if header.get("attribute_state", True):
                con.execute(
                    f"INSERT INTO {tables.attribute_state} SELECT $key, user_key, state, "
                    "$seq + row_number() OVER (), $run, now() "
                    f"FROM ({JOURNAL_SQL}) WHERE user_key IS NOT NULL",
                    {**params, "seq": time.time_ns()},
                )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    path.unlink()
    return applied
