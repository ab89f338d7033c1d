"""The delivery ledger, in the warehouse itself (schema ``braze_export``).

- ``deliveries``: one row per source row Braze acknowledged, by export key (model, mode,
  Braze instance), row hash and occurrence. The stream query skips these rows, so a re-run
  sends only what was not acknowledged: an event or a purchase is never sent twice by a re-run.
- ``attribute_state``: for user attributes, the last acknowledged value of every attribute of
  every user; ``--delta`` compares against it and sends only what changed.
- ``runs``: one row per export run with its summary.

A writer thread commits acknowledgements as they arrive (group commit: whatever arrived while
the previous commit ran goes into the next). A sending thread waits until its batch's commit is
done before it takes the next batch, so an acknowledged batch counts as in flight until it is
durable, and a SIGKILL loses at most what was in flight.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

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


class LedgerWriter:
    """Records acknowledged items from any thread; one thread commits them in groups."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        key: str,
        run_id: str,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._con = con.cursor()
        self._key = key
        self._run_id = run_id
        self._queue: queue.Queue[tuple[list[Item], threading.Event] | None] = queue.Queue()
        self._on_error = on_error
        self._seq = time.time_ns()
        self.commits = 0
        self.recorded = 0
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()

    def record(self, items: Sequence[Item]) -> threading.Event:
        """Queues acknowledged items; the event is set once they are committed (or the ledger
        failed, see ``error``)."""
        done = threading.Event()
        if items:
            self._queue.put((list(items), done))
        else:
            done.set()
        return done

    def close(self) -> None:
        """Commits everything recorded so far and stops the thread."""
        self._queue.put(None)
        self._thread.join()
        self._con.close()

    def _run(self) -> None:
        stop = False
        while not stop:
            group: list[Item] = []
            waiting: list[threading.Event] = []
            entry = self._queue.get()
            while True:  # everything that queued up meanwhile goes into the same commit
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
        hashes = [i.row_hash for i in items]
        occurrences = [i.occurrence for i in items]
        states = [(i.user_key, i.state) for i in items if i.user_key is not None and i.state]
        try:
            self._con.execute("BEGIN TRANSACTION")
            self._con.execute(
                f"INSERT INTO {DELIVERIES} SELECT $1, unnest($2::VARCHAR[]), "
                "unnest($3::BIGINT[]), $4, now()",
                [self._key, hashes, occurrences, self._run_id],
            )
            if states:
                seqs = [max(self._seq + n + 1, 0) for n in range(len(states))]
                self._seq = max(seqs[-1], time.time_ns())
                self._con.execute(
                    f"INSERT INTO {ATTRIBUTE_STATE} SELECT $1, unnest($2::VARCHAR[]), "
                    "unnest($3::VARCHAR[]), unnest($4::BIGINT[]), $5, now()",
                    [self._key, [u for u, _ in states], [s for _, s in states], seqs, self._run_id],
                )
            self._con.execute("COMMIT")
            self.commits += 1
            self.recorded += len(items)
        except duckdb.Error as exc:
            self.error = f"cannot write the delivery ledger: {exc}"
            log.error("%s", self.error)
            with contextlib.suppress(duckdb.Error):
                self._con.execute("ROLLBACK")
            if self._on_error:
                self._on_error(self.error)
