"""The delivery ledger, in the warehouse itself (schema ``braze_export``).

- ``deliveries``: one row per source row Braze acknowledged, by export key (model, mode,
  Braze instance), row hash and occurrence. The stream query skips these rows, so a re-run
  sends only what was not acknowledged: an event or a purchase is never sent twice by a re-run.
- ``attribute_state``: for user attributes, the last acknowledged value of every attribute of
  every user; ``--delta`` compares against it and sends only what changed.
- ``runs``: one row per export run with its summary.

Acknowledgements are made durable as they arrive through a write-ahead journal: a writer
thread appends them to a file next to the warehouse (``<database>.braze_export_journal/``) and
fsyncs it (group commit: whatever arrived during one fsync goes into the next). A sending
thread waits until its batch is durable before it takes the next batch, so an acknowledged
batch counts as in flight until then, and a SIGKILL loses at most what was in flight. The
journal goes into the tables in one transaction at the end of the run, or at the start of the
next run when the previous one was killed. (An fsync'd append costs a tenth of the CPU of a
DuckDB commit, which matters at a thousand requests a second.)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from braze_currents.exporter.batching import Item

SCHEMA = "braze_export"
DELIVERIES = f"{SCHEMA}.deliveries"
ATTRIBUTE_STATE = f"{SCHEMA}.attribute_state"
RUNS = f"{SCHEMA}.runs"

log = logging.getLogger(__name__)

DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {DELIVERIES} (
        export_key VARCHAR NOT NULL,
        row_hash VARCHAR NOT NULL,
        occurrence BIGINT NOT NULL,
        run_id VARCHAR NOT NULL,
        acked_at TIMESTAMP NOT NULL
    )""",
    f"""CREATE TABLE IF NOT EXISTS {ATTRIBUTE_STATE} (
        export_key VARCHAR NOT NULL,
        user_key VARCHAR NOT NULL,
        attributes VARCHAR NOT NULL,
        seq BIGINT NOT NULL,
        run_id VARCHAR NOT NULL,
        acked_at TIMESTAMP NOT NULL
    )""",
    f"""CREATE TABLE IF NOT EXISTS {RUNS} (
        run_id VARCHAR NOT NULL,
        export_key VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        relation VARCHAR,
        mode VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        exit_code INTEGER,
        summary JSON
    )""",
)


def export_key(model: str, label: str, endpoint: str | None) -> str:
    """What the ledger is kept per: the model, the mode and the Braze instance."""
    return f"{model}|{label}|{endpoint or '-'}"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def ledger_exists(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
        "AND table_name IN ('deliveries', 'attribute_state')",
        [SCHEMA],
    ).fetchone()[0]
    return int(found) == 2


def acknowledged(con: duckdb.DuckDBPyConnection, key: str) -> int:
    """Rows of this export Braze acknowledged so far (some may have left the model since)."""
    return int(
        con.execute(f"SELECT count(*) FROM {DELIVERIES} WHERE export_key = ?", [key]).fetchone()[0]
    )


def record_run_start(
    con: duckdb.DuckDBPyConnection, run_id: str, key: str, model: str, relation: str, mode: str
) -> None:
    con.execute(
        f"INSERT INTO {RUNS} (run_id, export_key, model, relation, mode, started_at) "
        "VALUES (?, ?, ?, ?, ?, now())",
        [run_id, key, model, relation, mode],
    )


def record_run_end(
    con: duckdb.DuckDBPyConnection, run_id: str, exit_code: int, summary: dict
) -> None:
    con.execute(
        f"UPDATE {RUNS} SET finished_at = now(), exit_code = ?, summary = ? WHERE run_id = ?",
        [exit_code, json.dumps(summary), run_id],
    )


def compact_state(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Keeps only the latest attribute state per user of this export."""
    con.execute(
        f"DELETE FROM {ATTRIBUTE_STATE} AS a WHERE a.export_key = $1 AND a.seq < ("
        f"SELECT max(b.seq) FROM {ATTRIBUTE_STATE} AS b "
        "WHERE b.export_key = a.export_key AND b.user_key = a.user_key)",
        [key],
    )


def journal_dir(database: Path) -> Path:
    return database.with_name(database.name + ".braze_export_journal")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class LedgerWriter:
    """Records acknowledged items from any thread; one thread appends them to the run's journal
    and fsyncs it, in groups."""

    def __init__(
        self,
        directory: Path,
        key: str,
        run_id: str,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        directory.mkdir(exist_ok=True)
        self.path = directory / f"{run_id}.journal"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        header = json.dumps({"export_key": key, "run_id": run_id}) + "\n"
        _write_all(self._fd, header.encode())
        os.fsync(self._fd)
        with contextlib.suppress(OSError):  # make the new file's name durable too
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        self._queue: queue.Queue[tuple[list[Item], threading.Event] | None] = queue.Queue()
        self._on_error = on_error
        self.commits = 0
        self.recorded = 0
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()

    def record(self, items: Sequence[Item]) -> threading.Event:
        """Queues acknowledged items; the event is set once they are durable (or the ledger
        failed, see ``error``)."""
        done = threading.Event()
        if items:
            self._queue.put((list(items), done))
        else:
            done.set()
        return done

    def close(self) -> None:
        """Makes everything recorded so far durable and stops the thread."""
        self._queue.put(None)
        self._thread.join()
        os.close(self._fd)

    def _run(self) -> None:
        stop = False
        while not stop:
            group: list[Item] = []
            waiting: list[threading.Event] = []
            entry = self._queue.get()
            while True:  # everything that queued up meanwhile goes into the same fsync
                if entry is None:
                    stop = True
                else:
                    group.extend(entry[0])
                    waiting.append(entry[1])
                try:
                    entry = self._queue.get_nowait()
                except queue.Empty:
                    break
            if group and self.error is None:
                self._commit(group)
            for done in waiting:
                done.set()

    def _commit(self, items: list[Item]) -> None:
        # One line per item: row hash, occurrence, then (user attributes) the user key and the
        # attribute state as JSON strings, which hold no tab or newline.
        lines = []
        for i in items:
            if i.user_key is not None and i.state:
                user, state = json.dumps(i.user_key), json.dumps(i.state)
                lines.append(f"{i.row_hash}\t{i.occurrence}\t{user}\t{state}\n")
            else:
                lines.append(f"{i.row_hash}\t{i.occurrence}\t\t\n")
        try:
            _write_all(self._fd, "".join(lines).encode())
            os.fsync(self._fd)
            self.commits += 1
            self.recorded += len(items)
        except OSError as exc:
            self.error = f"cannot write the delivery journal {self.path}: {exc}"
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


def apply_journals(con: duckdb.DuckDBPyConnection, directory: Path) -> int:
    """Moves every journal in ``directory`` into the ledger tables (one transaction each, read
    by DuckDB's CSV reader) and deletes it. Returns the number of deliveries applied."""
    if not directory.is_dir():
        return 0
    applied = 0
    for path in sorted(directory.glob("*.journal")):
        header = _journal_header(path)
        if header:
            params = {"path": str(path), "key": header["export_key"], "run": header["run_id"]}
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(
                    f"INSERT INTO {DELIVERIES} SELECT $key, row_hash, occurrence, $run, now() "
                    f"FROM ({JOURNAL_SQL})",
                    params,
                )
                applied += int(
                    con.execute(
                        "SELECT count(*) FROM (" + JOURNAL_SQL + ")", {"path": str(path)}
                    ).fetchone()[0]
                )
                con.execute(
                    f"INSERT INTO {ATTRIBUTE_STATE} SELECT $key, user_key, state, "
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
