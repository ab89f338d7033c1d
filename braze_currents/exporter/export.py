"""One export run, from the model to the report.

Without ``--skip-on-invalid-records`` a validation pass comes first and no request is sent
while any row may still be invalid: DuckDB certifies, vectorised, the rows that are valid for
certain (``certify.py``; one scan without the ledger's hashing tells whether any row is not)
and the Python validation judges every other row. Then one pipelined pass reads, prepares and
sends (with the flag, only this pass runs). Rows DuckDB certified and rendered come as their
JSON and journal line, cut into requests without a Python step per row
(``batching.rendered_batches``). At most one chunk of rows and ``2 x concurrency`` batches are
in memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from braze_currents.exporter import ledger as ledger_mod
from braze_currents.exporter.batching import (
    Batch,
    Batcher,
    Item,
    max_element_bytes,
    rendered_batches,
)
from braze_currents.exporter.certify import Certifier, ElementRenderer
from braze_currents.exporter.client import BrazeClient
from braze_currents.exporter.lock import ExportLock, LockBusy, lock_path
from braze_currents.exporter.modes import RateGroup, target_for
from braze_currents.exporter.payload import ObjectShaper, plan_columns, quote_ident
from braze_currents.exporter.prepare import Invalid, Preparer, Unchanged
from braze_currents.exporter.progress import Progress, choose_style
from braze_currents.exporter.ratelimit import RateLimiter
from braze_currents.exporter.report import Tally
from braze_currents.exporter.sender import SendContext, Sender
from braze_currents.exporter.settings import BULK_PATH, ConfigError, Settings
from braze_currents.exporter.source import (
    SOURCE_ALIAS,
    LedgerJoin,
    Relation,
    alias_update_only_rows,
    count_rows,
    describe,
    locate,
    rendered_query,
    resolve_model,
    stream_query,
    stream_rows,
)
from braze_currents.exporter.validation import checker_for

log = logging.getLogger("braze_currents.exporter")

EXIT_OK, EXIT_ERROR, EXIT_INVALID, EXIT_UNDELIVERED = 0, 1, 2, 3


@dataclass
class _Plan:
    key: str  # the ledger's export key
    join: LedgerJoin
    params: list[object]
    total: int  # rows in the model
    expected: int  # rows not yet delivered, about
    sql: str  # the sending pass, row by row
    check_sql: str  # the rows DuckDB cannot certify (the validation pass)
    any_uncertified_sql: str  # whether the model holds such a row at all (one cheap scan)
    rendered_sql: str | None  # certified rows with the JSON DuckDB rendered, where it can
    preparer: Preparer


@dataclass
class ExportResult:
    exit_code: int
    report: dict[str, object]  # the report without the rejects list


class DryRunWriter:
    """Writes each request a dry run builds as one NDJSON line: method, path, rows, body."""

    def __init__(self, path: Path, endpoint_path: str, tally: Tally) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._tmp = path.with_name(path.name + ".tmp")
        self._file = open(self._tmp, "wb")  # noqa: SIM115
        self._prefix = b'{"method":"POST","path":"' + endpoint_path.encode() + b'","rows":['
        self._tally = tally

    def write(self, batch: Batch) -> None:
        rows = ",".join(map(str, batch.rows())).encode()
        self._file.write(self._prefix + rows + b'],"body":' + batch.body() + b"}\n")
        self._tally.add("dry_run_requests")
        self._tally.add("would_send", len(batch))
        self._tally.add("data_points_would_send", batch.data_points())

    def finish(self) -> None:
        self._file.close()
        self._tmp.replace(self.path)

    def abandon(self) -> None:
        self._file.close()
        with contextlib.suppress(OSError):
            self._tmp.unlink()


class Export:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.tally = Tally(settings.spool_dir)
        self.run_id = uuid.uuid4().hex
        self.target = target_for(settings.mode, settings.record_type)
        if settings.track_bulk:  # the same objects and ledger, another endpoint
            self.target = dataclasses.replace(self.target, path=BULK_PATH)
        self.streamed: int | None = None  # rows the stream query returned, once it is read whole
        self.late_invalid = False
        self._spill: tempfile.TemporaryDirectory | None = None
        self._sources = 1  # row sources of the sending pass not yet read whole
        self._uncertified: int | None = None  # rows the validation pass judged in Python
        self._streamed_rows = 0
        self.stop_reason = ""
        self._sending = False  # requests may be in flight: a stop signal only stops the sender
        self._sender: Sender | None = None
        self._batcher: Batcher | None = None
        self._started = time.monotonic()
        self.tables: ledger_mod.Tables | None = None  # the ledger's tables, once open
        self.ledger_info: dict[str, object] = {}  # the report's "ledger" entry
        self.header: dict[str, object] = {
            "run_id": self.run_id,
            "model": settings.model,
            "mode": settings.mode.value,
            "track_record_type": settings.record_type.value if settings.record_type else None,
            "endpoint_path": self.target.path,
            "dry_run": settings.dry_run,
            "delta": settings.delta,
            "skip_on_invalid_records": settings.skip_invalid,
        }

    def interrupt(self) -> bool:
        """A stop signal (SIGTERM, Ctrl-C). Once sending has begun it never interrupts the call
        the main thread is in (a queue, the ledger, DuckDB: an exception there could leave a
        lock held and the run hanging): the sender takes no more batches, the requests in
        flight finish and are recorded, the rest are counted not sent, and the report is
        written. Returns False before that, when nothing is in flight and the caller may
        interrupt the run outright."""
        if not self._sending:
            return False
        if self._sender is not None:
            self._sender.stop("interrupted")
        return True

    # set-up -----------------------------------------------------------------------------------

    def _connect(self) -> duckdb.DuckDBPyConnection:
        path = self.s.database
        if not path.exists():
            raise ConfigError(
                f"no DuckDB warehouse at {path} (set --database or CURRENTS_DUCKDB_PATH)"
            )
        # Reading a model of any size: DuckDB holds at most memory_limit and spills the rest
        # (the ledger's numbering of identical rows sorts the whole model) to this directory.
        self._spill = tempfile.TemporaryDirectory(prefix="braze-export-", dir=self.s.spool_dir)
        config = {
            "memory_limit": self.s.memory_limit,
            "temp_directory": self._spill.name,
            "max_vacuum_tasks": self.s.max_vacuum_tasks,
        }
        # With --ledger the warehouse is only read: the ledger is written in its own file.
        read_only = self.s.dry_run or self.s.ledger_path is not None
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.Error as exc:
            raise ConfigError(f"cannot open the warehouse {path}: {exc}") from None

    def run(self) -> ExportResult:
        if self.s.dry_run:  # sends nothing and writes no ledger: no lock to take
            return self._run()
        holder = {"model": self.s.model, "mode": self.s.label, "run_id": self.run_id}
        lock = ExportLock(lock_path(self.s.ledger_file), holder, self.s.lock_timeout)
        try:
            lock.acquire()
        except LockBusy as exc:
            raise ConfigError(str(exc)) from None
        try:
            if lock.waited >= 1:
                log.info("waited %.1f s for another export using the ledger", lock.waited)
            return self._run()
        finally:
            lock.release()

    def _run(self) -> ExportResult:
        started = self._started = time.monotonic()
        started_at = dt.datetime.now(dt.UTC)
        relation = resolve_model(self.s.model, self.s.target_path)
        con = self._connect()
        try:
            plan = self._plan(con, relation)
            exit_code = EXIT_OK
            if not self.s.skip_invalid:  # every row validated before the first request
                exit_code = self._validate(con, plan, plan.preparer.copy())
            if exit_code != EXIT_INVALID:
                exit_code = self._deliver(con, plan.key, self._batches(con, plan), plan.expected)
            summary = self._account(con, plan)  # before this run's journal is applied
            self.ledger_info["skipped_as_delivered"] = summary.get("already_delivered", 0)
            if not self.s.dry_run and self.tables is not None:
                ledger_mod.apply_journals(
                    con, ledger_mod.journal_dir(self.s.ledger_file), self.tables
                )
                if self.s.is_user_attributes:
                    with contextlib.suppress(duckdb.Error):
                        ledger_mod.compact_state(con, plan.key, self.tables)
            self.header.update(
                {
                    "status": {EXIT_OK: "ok", EXIT_INVALID: "invalid_rows"}.get(
                        exit_code, "incomplete"
                    ),
                    "exit_code": exit_code,
                    "stopped_reason": self.stop_reason or None,
                    "started_at": started_at.isoformat(),
                    "finished_at": dt.datetime.now(dt.UTC).isoformat(),
                    "seconds": round(time.monotonic() - started, 3),
                    **self._edges(),
                }
            )
            if not self.s.dry_run and self.tables is not None:
                with contextlib.suppress(duckdb.Error):
                    ledger_mod.record_run_end(
                        con, self.run_id, exit_code, {**self.header, **summary}, self.tables
                    )
            log.info(
                "ledger %s: %d row(s) skipped as already delivered",
                self.ledger_info.get("path"),
                self.ledger_info["skipped_as_delivered"],
            )
            if self.s.report_path:
                self.tally.write(self.s.report_path, self.header)
            return ExportResult(exit_code, {**self.header, **summary})
        finally:
            con.close()
            self.tally.close()
            if self._spill is not None:
                self._spill.cleanup()

    def _plan(self, con: duckdb.DuckDBPyConnection, relation: Relation) -> _Plan:
        """Reads the model's shape, opens the ledger and writes the two queries of the run."""
        s = self.s
        relation = locate(con, relation)
        self.header["relation"] = str(relation)
        columns = describe(con, relation)
        names = [c for c, _ in columns]
        for flag, wanted in (
            ("--pre-formatted-fields", s.pre_formatted),
            ("--key-columns", s.key_columns),
        ):
            missing = sorted(set(wanted) - set(names))
            if missing:
                raise ConfigError(f"{flag}: no such column(s) in {relation}: {missing}")
        plans = plan_columns(columns, s.pre_formatted)
        shaper = ObjectShaper(s.mode, s.record_type, names, self.target.array_key, s.prioritization)
        if shaper.ignored_columns:
            log.warning(
                "%s uses only its identifier columns; ignoring column(s) %s",
                s.mode.value,
                ", ".join(shaper.ignored_columns),
            )

        if s.is_user_attributes:
            update_only = alias_update_only_rows(con, relation, columns)
            if update_only:
                log.warning(
                    "%d row(s) identified by an alias do not set _update_existing_only to "
                    "false: Braze only updates alias profiles that exist and creates none for "
                    "them (add a column _update_existing_only = FALSE to create them)",
                    update_only,
                )
        key = ledger_mod.export_key(s.model, s.label, s.endpoint)
        tables = self.tables = self._open_ledger(con, key)
        if not s.dry_run and tables is not None:
            ledger_mod.record_run_start(
                con, self.run_id, key, s.model, str(relation), s.label, tables
            )
        # a dry run reads the ledger only if an earlier run made it
        have_ledger = not s.ignore_ledger and tables is not None
        join = LedgerJoin(
            deliveries=tables.deliveries if have_ledger and not s.delta else None,
            attribute_state=(
                tables.attribute_state if have_ledger and s.is_user_attributes else None
            ),
        )
        total = count_rows(con, relation)
        self.tally.add("rows", total)
        expected = max(
            0, total - (ledger_mod.acknowledged(con, key, tables) if join.deliveries else 0)
        )
        if join.deliveries:
            pending = f"about {expected} not yet delivered"
        elif join.attribute_state and s.delta:
            pending = "--delta: only attributes that changed are sent"
        else:
            pending = "no ledger consulted: every row is sent"
        log.info(
            "%s %s (%s) as %s to %s: %d rows, %s",
            "dry run of" if s.dry_run else "exporting",
            s.model,
            relation,
            s.label,
            s.endpoint or "(no endpoint)",
            total,
            pending,
        )

        certifier = Certifier(
            shaper,
            columns,
            s.pre_formatted,
            s.prioritization,
            max_element_bytes(self.target.array_key, s.batch.max_request_bytes),
        )
        predicate = certifier.predicate()
        uncertified = f"NOT coalesce({predicate}, FALSE)"
        common = (relation, plans, s.key_columns, s.is_user_attributes, join)
        element = ElementRenderer(shaper, plans, certifier.types).element_sql()
        rendered_sql = None
        if element is not None:
            rendered_sql = rendered_query(
                stream_query(*common, only_where=predicate, certified=predicate, element=element)
            )
        return _Plan(
            key=key,
            join=join,
            params=join.params(key),
            total=total,
            expected=expected,
            sql=stream_query(*common, certified=predicate, element=element),
            check_sql=stream_query(*common, only_where=uncertified),
            any_uncertified_sql=(
                f"SELECT EXISTS (SELECT 1 FROM {relation.sql()} AS {quote_ident(SOURCE_ALIAS)} "
                f"WHERE {uncertified})"
            ),
            rendered_sql=rendered_sql,
            preparer=Preparer(
                plans,
                shaper,
                checker_for(s.mode, s.record_type),
                s.batch.max_request_bytes,
                track_state=s.is_user_attributes,
                delta=s.delta,
            ),
        )

    def _open_ledger(self, con: duckdb.DuckDBPyConnection, key: str) -> ledger_mod.Tables | None:
        """Opens the ledger (the warehouse's, or attaches the --ledger file), checks its format
        (migrates format 1), applies the journal of an interrupted run, and enforces
        --require-ledger and --first-run against its history of this export. None: a dry run
        with no ledger to read. ConfigError, before anything is sent, when it cannot be used."""
        s = self.s
        where = str(s.ledger_file)
        info = self.ledger_info = {"path": where, "in_warehouse": s.ledger_path is None}
        self.header["ledger"] = info
        try:
            copy_from: ledger_mod.Tables | None = None
            if s.ledger_path is None:
                version, migrated = ledger_mod.check_format(
                    con, ledger_mod.IN_WAREHOUSE, where, read_only=s.dry_run
                )
                tables = ledger_mod.IN_WAREHOUSE if version is not None else None
            elif not s.ledger_path.exists():
                warehouse_has = ledger_mod.check_format(
                    con, ledger_mod.IN_WAREHOUSE, f"in the warehouse {s.database}", read_only=True
                )[0]
                if warehouse_has is not None and ledger_mod.has_history(con, key):
                    copy_from = ledger_mod.IN_WAREHOUSE  # the ledger moves out of the warehouse
                version, migrated = None, None
                if s.dry_run or (s.require_ledger and not s.first_run and copy_from is None):
                    tables = None  # create no empty ledger file
                else:
                    s.ledger_path.parent.mkdir(parents=True, exist_ok=True)
                    tables = ledger_mod.attach(con, s.ledger_path, read_only=False)
                    version, migrated = ledger_mod.check_format(con, tables, where)
            else:
                tables = ledger_mod.attach(con, s.ledger_path, read_only=s.dry_run)
                version, migrated = ledger_mod.check_format(con, tables, where, s.dry_run)
                if version is None:
                    tables = None
        except ledger_mod.LedgerFormatError as exc:
            raise ConfigError(str(exc)) from None
        info.update({"format": version, "migrated_from": migrated})
        if tables is not None and copy_from is not None:
            copied = ledger_mod.copy_ledger(con, copy_from, tables)
            info["copied_from_warehouse"] = copied
            log.info(
                "ledger: copied the warehouse's ledger (%d deliveries) into %s; the warehouse's "
                "copy is no longer updated",
                copied,
                where,
            )
        if tables is not None and not s.dry_run:
            journals = ledger_mod.journal_dir(s.ledger_file)
            recovered = ledger_mod.apply_journals(con, journals, tables)
            if recovered:
                log.info("ledger: %d acknowledgements of an interrupted run applied", recovered)
        seen = tables is not None and ledger_mod.has_history(con, key, tables)
        info["first_run"] = not seen
        described = f"model {s.model}, mode {s.label} and endpoint {s.endpoint or '-'}"
        if s.first_run and seen:
            raise ConfigError(
                f"--first-run: this is not the first run: the ledger {where} holds the history "
                f"of {described}; nothing was sent (drop --first-run)"
            )
        if not seen and s.require_ledger and not s.first_run:
            raise ConfigError(
                f"--require-ledger: no ledger history for {described} in {where}; nothing was "
                "sent. If the ledger was lost, restore it (sending without it would send every "
                "row again); if this is the export's first run, pass --first-run"
            )
        if not seen and not s.ignore_ledger:
            log.warning(
                "first run of %s: the ledger %s has no history of it, every row is sent%s",
                described,
                where,
                ""
                if s.first_run
                else " (in CI, pass --require-ledger so that a lost ledger stops the job instead)",
            )
        return tables

    def _edges(self) -> dict[str, float]:
        """Seconds of the run before its first request and after its last answer (reading,
        validating and hashing the model; the ledger and the report): what a loop posting
        prepared requests does not spend. Absent when nothing was sent."""
        sender = self._sender
        if sender is None or sender.first_request_at is None or sender.last_answer_at is None:
            return {}
        return {
            "seconds_before_first_request": round(sender.first_request_at - self._started, 3),
            "seconds_after_last_answer": round(time.monotonic() - sender.last_answer_at, 3),
        }

    def _account(self, con: duckdb.DuckDBPyConnection, plan: _Plan) -> dict[str, object]:
        """Puts every row of the model in a bucket; returns the summary."""
        if self.streamed is None and plan.join.deliveries:  # stopped early: count the rest
            self.streamed = _count_query(con, plan.sql, plan.params)
        streamed = self.streamed if self.streamed is not None else plan.total
        self.tally.add("already_delivered", plan.total - streamed)
        accounted = sum(v for k, v in self.tally.summary().items() if k in _BUCKETS_NO_REST)
        self.tally.add("not_sent", max(0, plan.total - accounted))
        return self.tally.summary()

    # passes -----------------------------------------------------------------------------------

    def _any_uncertified(self, con: duckdb.DuckDBPyConnection, plan: _Plan) -> bool:
        """Whether any row of the model (delivered or not) is one DuckDB cannot certify: one
        scan of the model's columns, without the ledger's hashing and numbering. When none is,
        the validation pass has no row to judge and the sending pass no row to prepare in
        Python."""
        return bool(con.execute(plan.any_uncertified_sql).fetchone()[0])

    def _validate(self, con: duckdb.DuckDBPyConnection, plan: _Plan, preparer: Preparer) -> int:
        """The validation pass: DuckDB certifies what it can; Python judges the rest."""
        started = time.monotonic()
        checked = invalid = 0
        if self._any_uncertified(con, plan):
            progress = self._progress("checking in Python the rows DuckDB did not certify", None)
            for chunk in stream_rows(con, plan.check_sql, plan.params, self.s.chunk_rows):
                for values in chunk:
                    checked += 1
                    out = preparer.prepare(values)
                    if type(out) is Invalid:
                        invalid += 1
                        self.tally.reject("invalid", out.row, out.key, out.reason)
                progress.advance(len(chunk))
            progress.close()
        log.info(
            "validation: %d of the model's %d rows checked in Python (DuckDB certified the "
            "others), %d invalid",
            checked,
            plan.total,
            invalid,
        )
        self.header["validation_seconds"] = round(time.monotonic() - started, 3)
        self.header["validation_rows_checked_in_python"] = checked
        self._uncertified = checked
        if invalid:
            self.stop_reason = (
                f"{invalid} invalid row(s); nothing was sent "
                "(fix them, or pass --skip-on-invalid-records to skip them)"
            )
            log.error("%s", self.stop_reason)
            return EXIT_INVALID
        return EXIT_OK

    def _batches(self, con: duckdb.DuckDBPyConnection, plan: _Plan) -> Iterator[Batch]:
        """The sending pass: the requests to make, built while earlier ones are in flight."""
        batcher = self._batcher = Batcher(self._batch_limit(), self.s.batch.max_request_bytes)
        if not plan.rendered_sql:  # Python prepares every row
            yield from batcher.feed(self._prepared(con, plan.sql, plan.params, plan.preparer))
            yield from batcher.flush()
            return
        # Python prepares the rows DuckDB cannot certify (if any), DuckDB renders the rest
        if self._uncertified is None:  # no validation pass ran (--skip-on-invalid-records)
            self._uncertified = 1 if self._any_uncertified(con, plan) else 0
        if self._uncertified:
            self._sources = 2
            yield from batcher.feed(self._prepared(con, plan.check_sql, plan.params, plan.preparer))
        yield from self._rendered(con, plan.rendered_sql, plan.params, batcher)

    def _prepared(
        self, con: duckdb.DuckDBPyConnection, sql: str, params: list[object], preparer: Preparer
    ) -> Iterator[Item]:
        """The rows to send, prepared while earlier batches are in flight. Invalid rows are
        skipped and reported (the validation pass already stopped the run otherwise) and
        unchanged rows counted."""
        tally, prepare = self.tally, preparer.prepare
        row = 0
        for chunk in stream_rows(con, sql, params, self.s.chunk_rows):
            for values in chunk:
                row += 1
                out = prepare(values)
                if type(out) is Item:
                    yield out
                elif type(out) is Unchanged:
                    tally.add("unchanged")
                    tally.add("data_points_saved_by_delta", out.saved)
                else:
                    assert isinstance(out, Invalid)
                    if not self.s.skip_invalid:  # cannot happen: the validation pass judged it
                        log.error("row %s failed validation after the validation pass", out.row)
                        self.late_invalid = True
                    status = "skipped_invalid" if self.s.skip_invalid else "invalid"
                    tally.reject(status, out.row, out.key, out.reason)
        tally.add("data_points_saved_by_delta", preparer.saved_in_sent_rows)
        self._source_done(row)

    def _rendered(
        self, con: duckdb.DuckDBPyConnection, sql: str, params: list[object], batcher: Batcher
    ) -> Iterator[Batch]:
        """Batches of the certified rows whose JSON DuckDB rendered (``source.rendered_query``),
        continuing ``batcher`` and flushing it at the end."""
        rows = 0

        def chunks() -> Iterator[list[tuple]]:
            nonlocal rows
            for chunk in stream_rows(con, sql, params, self.s.chunk_rows):
                rows += len(chunk)
                yield chunk
            self._source_done(rows)

        yield from rendered_batches(self.target.array_key, chunks(), batcher)

    def _source_done(self, rows: int) -> None:
        """One of the run's row sources is read whole; once all are, ``streamed`` is known."""
        self._streamed_rows += rows
        self._sources -= 1
        if self._sources == 0:
            self.streamed = self._streamed_rows

    def _progress(self, label: str, total: int | None) -> Progress:
        return Progress(choose_style(self.s.progress), label, total, self.s.log_interval)

    def _lower_batches(self, limit: int) -> None:
        if self._batcher is not None:
            self._batcher.lower(limit)

    def _batch_limit(self) -> int:
        if self.target.rate_group is RateGroup.SUBSCRIPTION:
            return self.s.batch.subscription
        if self.target.rate_group is RateGroup.USERS:
            return {
                "/users/alias/new": self.s.batch.new_alias,
                "/users/identify": self.s.batch.identify,
            }.get(self.target.path, self.s.batch.delete)
        return self.s.batch.track_objects

    def _deliver(
        self, con: duckdb.DuckDBPyConnection, key: str, to_send: Iterator[Batch], expected: int
    ) -> int:
        if self.s.dry_run:
            return self._dry_run(to_send)
        code = self._send(con, key, to_send, expected)
        return EXIT_UNDELIVERED if self.late_invalid else code

    def _dry_run(self, to_send: Iterator[Batch]) -> int:
        path = self.s.dry_run_output
        assert path is not None
        writer = DryRunWriter(path, self.target.path, self.tally)
        try:
            for batch in to_send:
                writer.write(batch)
        except BaseException:
            writer.abandon()
            raise
        writer.finish()
        self.header["dry_run_output"] = str(path)
        log.info("dry run: requests written to %s", path)
        return EXIT_OK

    def _send(
        self, con: duckdb.DuckDBPyConnection, key: str, to_send: Iterator[Batch], expected: int
    ) -> int:
        s = self.s
        assert s.endpoint and s.api_key
        if self.target.rate_group is RateGroup.TRACK:
            requests, window = s.rate.track_requests, s.rate.track_window
        elif self.target.rate_group is RateGroup.SUBSCRIPTION:
            requests, window = s.rate.subscription_requests, s.rate.subscription_window
        else:
            requests, window = s.rate.users_requests, s.rate.users_window
        limiter = RateLimiter(requests, window, s.rate.headroom)
        concurrency = s.concurrency_for(limiter.rate)
        self.header["concurrency"] = concurrency
        client = BrazeClient(s.endpoint, s.api_key, s.http)
        progress = self._progress("sending", expected)
        sender: Sender | None = None

        def ledger_failed(reason: str) -> None:
            if sender is not None:
                sender.stop(reason)

        journals = ledger_mod.journal_dir(s.ledger_file)
        tables = self.tables
        assert tables is not None
        writer = ledger_mod.LedgerWriter(
            journals,
            key,
            self.run_id,
            on_error=ledger_failed,
            attribute_state=s.is_user_attributes,
        )

        def drained() -> None:
            """Every row is read and queued. While the last requests are in flight, the
            journal so far goes into the ledger tables and the warehouse is checkpointed, so
            that little is left to write once the last answer is in."""
            closed = writer.rotate()
            if closed is None:
                return
            try:
                ledger_mod.apply_journal(con, closed, tables)
                con.execute(f"CHECKPOINT {tables.catalog or ''}")
            except duckdb.Error as exc:  # the end of the run tries again
                log.debug("ledger: could not apply the journal early: %s", exc)

        self._sending = True
        sender = self._sender = Sender(
            SendContext(
                client=client,
                path=self.target.path,
                limiter=limiter,
                http=s.http,
                tally=self.tally,
                on_delivered=writer.record,
                on_progress=progress.advance,
                on_object_limit=self._lower_batches,
            ),
            concurrency,
        )
        started = time.monotonic()
        try:
            sender.run(to_send, on_drained=drained)
        except KeyboardInterrupt:
            sender.stop("interrupted")
        finally:
            writer.close()
            client.close()
            progress.close()
            self.header["sending_seconds"] = round(time.monotonic() - started, 3)
            self.header["ledger_commits"] = writer.commits
        if writer.error:
            sender.stop(writer.error)
        self.stop_reason = sender.stop_reason
        if sender.object_limit is not None:
            self.header["objects_per_request_learned"] = sender.object_limit
        if sender.config_error:
            return EXIT_ERROR
        counts = self.tally.counts
        undelivered = counts["rejected_by_braze"] + counts["failed"]
        return EXIT_UNDELIVERED if undelivered or sender.stopped.is_set() else EXIT_OK


_BUCKETS_NO_REST = (
    "sent",
    "already_delivered",
    "unchanged",
    "skipped_invalid",
    "invalid",
    "would_send",
    "rejected_by_braze",
    "failed",
)


def _count_query(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> int:
    return int(con.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])


def run_export(settings: Settings) -> ExportResult:
    return Export(settings).run()
