"""Sending batches with bounded concurrency, and what to do with each of Braze's answers.

A fixed pool of worker threads takes batches from a bounded queue, so at most ``concurrency``
requests are in flight and at most ``2 * concurrency`` batches wait in memory. Each worker
owns its batch until every row in it is delivered (and written to the ledger's journal),
rejected or failed; the journal's fsync of a delivered batch runs while the worker sends its
next one, which it records only once that fsync is done (``ledger.py``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from braze_currents.exporter.batching import Batch, item_key
from braze_currents.exporter.client import (
    BrazeClient,
    CertificateError,
    Response,
    TransportError,
    Verdict,
    backoff_delay,
    classify,
    now_epoch,
    object_errors,
    rate_limit_wait,
)
from braze_currents.exporter.ratelimit import RateLimiter
from braze_currents.exporter.redact import scrub
from braze_currents.exporter.report import Tally
from braze_currents.exporter.settings import HttpSettings

log = logging.getLogger("braze_currents.exporter")


@dataclass
class SendContext:
    client: BrazeClient
    path: str
    limiter: RateLimiter
    http: HttpSettings
    tally: Tally
    # the ledger: records acknowledged items (a batch, or the part of it Braze accepted),
    # returns an event set once they are durable
    on_delivered: Callable[[Batch], threading.Event | None]
    on_progress: Callable[[int], None] = lambda n: None
    # a smaller number of objects per request learned from a refusal, for batches not built yet
    on_object_limit: Callable[[int], None] = lambda n: None


# Objects per /users/track request Braze documents: 75 by default, up to 50 combined on some
# contracts. A "Max Input Length Exceeded" refusal tries the next one down, then halves.
DOCUMENTED_TRACK_LIMITS = (75, 50)


def smaller_limit(refused: int, path: str) -> int:
    """The objects per request to use after a request of ``refused`` objects was refused as
    too long: the largest documented limit below it, else half of it."""
    if path.startswith("/users/track"):
        for limit in DOCUMENTED_TRACK_LIMITS:
            if limit < refused:
                return limit
    return max(1, refused // 2)


def pieces(batch: Batch, limit: int) -> list[Batch]:
    """``batch`` cut into batches of at most ``limit`` objects, in order."""
    items = batch.items
    return [Batch(batch.kind, items[i : i + limit]) for i in range(0, len(items), limit)]


class InFlight:
    """How many requests may be in flight: one until the first success, so that a refused key
    or a payload Braze rejects wholesale costs one request instead of one per thread; then
    the full concurrency. A 429 halves it (never below one) and each success widens it by one
    again. Threads wait for a slot on a condition."""

    def __init__(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.limit = 1
        self._in_flight = 0
        self._opened = False
        self._cond = threading.Condition()

    def acquire(self, stopped: threading.Event) -> bool:
        """Waits for a slot; False once ``stopped`` is set (then no slot is taken)."""
        with self._cond:
            while self._in_flight >= self.limit:
                if stopped.is_set():
                    return False
                self._cond.wait(0.05)
            if stopped.is_set():
                return False
            self._in_flight += 1
            return True

    def release(self, succeeded: bool) -> None:
        with self._cond:
            self._in_flight -= 1
            if succeeded:
                if not self._opened:
                    self._opened, self.limit = True, self.maximum
                elif self.limit < self.maximum:
                    self.limit += 1
            self._cond.notify_all()

    def narrow(self) -> None:
        with self._cond:
            self.limit = max(1, self.limit // 2)


class Sender:
    def __init__(self, ctx: SendContext, concurrency: int) -> None:
        self.ctx = ctx
        self.concurrency = max(1, concurrency)
        self.window = InFlight(self.concurrency)
        self.stopped = threading.Event()
        self.stop_reason = ""
        self.config_error = False  # stopped by a configuration error: the job exits 1
        self.object_limit: int | None = None  # objects per request learned from a refusal
        self._limit_lock = threading.Lock()
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=2 * self.concurrency)
        self._local = threading.local()  # per thread: the durability of its last recorded batch
        # time.monotonic() when the first request went out and the last answer came in
        self.first_request_at: float | None = None
        self.last_answer_at: float | None = None
        self._workers = [
            threading.Thread(target=self._work, name=f"sender-{n}", daemon=True)
            for n in range(self.concurrency)
        ]

    # the pool ---------------------------------------------------------------------------------

    def stop(self, reason: str) -> None:
        if not self.stopped.is_set():
            self.stop_reason = reason
            self.stopped.set()
            log.error("%s", reason)

    def run(self, batches: Iterable[Batch], on_drained: Callable[[], None] | None = None) -> None:
        """Sends every batch; returns when all are settled or the job was stopped (then the
        batches not taken yet are left in the iterator: the caller counts them not sent).
        ``on_drained`` runs on this thread once every batch is queued, while the last ones are
        still in flight."""
        for worker in self._workers:
            worker.start()
        try:
            for batch in batches:
                if self.stopped.is_set():
                    self._settle_failed(batch, self.stop_reason)
                    break
                self._queue.put(batch)
            else:
                if on_drained is not None and not self.stopped.is_set():
                    on_drained()
        finally:
            for _ in self._workers:
                self._queue.put(None)
            for worker in self._workers:
                worker.join()

    def _work(self) -> None:
        try:
            while True:
                batch = self._queue.get()
                if batch is None:
                    return
                try:
                    self.deliver(batch)
                except Exception as exc:  # never lose a batch to a bug: count it failed, go on
                    log.exception("unexpected error while sending a batch")
                    self._settle_failed(
                        batch, scrub(f"unexpected error: {type(exc).__name__}: {exc}")
                    )
        finally:
            self._durable()

    def _durable(self) -> None:
        """Waits until the last batch this thread recorded in the ledger is durable."""
        durable = getattr(self._local, "durable", None)
        if durable is not None:
            self._local.durable = None
            durable.wait()

    # one batch --------------------------------------------------------------------------------

    def deliver(self, batch: Batch) -> None:
        pending = [batch]
        while pending:
            batch = pending.pop()
            limit = self.object_limit
            if limit is not None and len(batch) > limit:  # built before the limit was learned
                pending.extend(reversed(pieces(batch, limit)))
                continue
            self._attempt(batch, pending)

    def _learn_limit(self, refused: int) -> int:
        """A request of ``refused`` objects was too long for this account: the run sends at
        most fewer from now on, instead of splitting every batch again."""
        with self._limit_lock:
            limit = smaller_limit(refused, self.ctx.path)
            if self.object_limit is not None and self.object_limit <= limit:
                return self.object_limit
            self.object_limit = limit
        log.warning(
            "Braze refused %d objects in one request (Max Input Length Exceeded): sending at "
            "most %d objects a request for the rest of the run (set --track-batch-size or "
            "the mode's batch size to start there)",
            refused,
            limit,
        )
        self.ctx.on_object_limit(limit)
        return limit

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.stopped.wait(seconds)

    def _attempt(self, batch: Batch, pending: list[Batch]) -> None:
        ctx, http = self.ctx, self.ctx.http
        errors = limited = 0
        body = batch.body()
        while True:
            if self.stopped.is_set():
                self._settle_failed(batch, f"not sent: {self.stop_reason}")
                return
            if not self.window.acquire(self.stopped):
                continue  # stopped while waiting: settled at the top of the loop
            limit = self.object_limit
            if limit is not None and len(batch) > limit:  # learned while this thread waited
                self.window.release(succeeded=False)
                pending.extend(reversed(pieces(batch, limit)))
                return
            ctx.limiter.acquire()
            ctx.tally.add("requests")
            if self.first_request_at is None:
                self.first_request_at = time.monotonic()
            succeeded = False
            try:
                response = ctx.client.post(ctx.path, body)
                succeeded = 200 <= response.status < 300
            except CertificateError as exc:
                self.window.release(succeeded=False)
                self.last_answer_at = time.monotonic()
                self.config_error = True
                self.stop(f"Braze's TLS certificate could not be verified: {exc}; stopping")
                self._settle_failed(batch, "not sent: TLS certificate not verified")
                return
            except TransportError as exc:
                self.window.release(succeeded=False)
                self.last_answer_at = time.monotonic()
                if errors >= http.max_retries:
                    self._settle_failed(batch, f"no answer after {errors + 1} attempts: {exc}")
                    return
                self._wait(backoff_delay(errors, http.backoff_base, http.backoff_max))
                errors += 1
                ctx.tally.add("retries")
                continue
            except BaseException:
                self.window.release(succeeded=False)
                raise
            self.window.release(succeeded)
            self.last_answer_at = time.monotonic()
            verdict = classify(response)
            if verdict is Verdict.OK:
                self._settle_ok(batch, response)
                return
            if verdict is Verdict.RATE_LIMITED:
                ctx.tally.add("rate_limited")
                self.window.narrow()
                if limited >= http.max_rate_limited_retries:
                    self._settle_failed(batch, f"still rate limited after {limited + 1} attempts")
                    return
                # At least an exponential backoff: a reset in the past (a local clock ahead of
                # Braze's) or of zero must not turn into immediate retries.
                told = rate_limit_wait(response.headers, now_epoch(), http.max_wait)
                wait = backoff_delay(limited, http.backoff_base, http.backoff_max)
                if told is not None:
                    wait = max(wait, told)
                ctx.limiter.pause_until(time.monotonic() + wait)  # every thread holds back
                limited += 1
                ctx.tally.add("retries")
                continue
            if verdict is Verdict.RETRY:
                if errors >= http.max_retries:
                    self._settle_failed(
                        batch,
                        f"HTTP {response.status} after {errors + 1} attempts: {response.message}",
                    )
                    return
                self._wait(backoff_delay(errors, http.backoff_base, http.backoff_max))
                errors += 1
                ctx.tally.add("retries")
                continue
            if verdict is Verdict.AUTH:
                what = (
                    "refused the API key"
                    if response.status == 401
                    else ("says the API key lacks the permission for " + ctx.path)
                )
                self.stop(
                    f"Braze {what} (HTTP {response.status}: {response.message}); stopping. "
                    "Check BRAZE_API_KEY, its workspace and its endpoint permissions."
                )
                self._settle_failed(batch, f"HTTP {response.status}: {response.message}")
                return
            if verdict is Verdict.FATAL:
                hint = "check BRAZE_REST_ENDPOINT"
                if response.status == 404:  # Braze answers 404 to a key it does not know too
                    hint = (
                        "check BRAZE_REST_ENDPOINT and BRAZE_API_KEY (an unknown key is a 404 too)"
                    )
                self.stop(
                    f"Braze answered HTTP {response.status} on {ctx.path} ({response.message}); "
                    f"stopping: {hint}"
                )
                self._settle_failed(batch, f"HTTP {response.status}: {response.message}")
                return
            self._split_or_isolate(batch, response, verdict, pending)
            return

    def _split_or_isolate(
        self, batch: Batch, response: Response, verdict: Verdict, pending: list[Batch]
    ) -> None:
        tally = self.ctx.tally
        if verdict is Verdict.BAD_REQUEST:  # the body may name the bad objects
            mapped, _ = object_errors(response.data, batch.kind, len(batch))
            if mapped:
                for index, reason in mapped.items():
                    item = batch.items[index]
                    tally.reject("rejected_by_braze", item.row, item_key(item), reason)
                self.ctx.on_progress(len(mapped))
                rest = [item for i, item in enumerate(batch.items) if i not in mapped]
                if rest:  # a 400 processed nothing: send the others again
                    pending.append(Batch(batch.kind, rest))
                return
        if verdict is Verdict.SPLIT and response.status == 400 and len(batch) > 1:
            limit = self._learn_limit(len(batch))  # "Max Input Length Exceeded"
            tally.add("splits")
            pending.extend(reversed(pieces(batch, limit)))
            return
        if len(batch) == 1:
            item = batch.items[0]
            reason = f"HTTP {response.status}: {response.message}"
            tally.reject("rejected_by_braze", item.row, item_key(item), reason)
            self.ctx.on_progress(1)
            return
        tally.add("splits")
        first, second = batch.halves()
        pending.append(second)
        pending.append(first)

    # outcomes ---------------------------------------------------------------------------------

    def _settle_ok(self, batch: Batch, response: Response) -> None:
        ctx = self.ctx
        count = len(batch)
        mapped, unmapped = object_errors(response.data, batch.kind, count)
        for text in unmapped:
            ctx.tally.unmapped(f"{ctx.path}: {text}")
        delivered = batch
        if mapped:
            accepted = []
            for index, item in enumerate(batch.items):
                if index in mapped:
                    ctx.tally.reject("rejected_by_braze", item.row, item_key(item), mapped[index])
                else:
                    accepted.append(item)
            delivered = Batch(batch.kind, accepted)
        if len(delivered):
            # The ledger has the batch's lines once on_delivered returns (a SIGKILL cannot lose
            # them); their fsync runs while this thread sends its next batch, and must be done
            # before it records another: at most one acknowledged batch per thread awaits it.
            self._durable()
            self._local.durable = ctx.on_delivered(delivered)
            ctx.tally.add("sent", len(delivered), data_points_sent=delivered.data_points())
        self._note_remaining(response)
        ctx.on_progress(count)

    def _note_remaining(self, response: Response) -> None:
        """When an answer says the window is used up, hold back until it resets."""
        if response.headers.get("x-ratelimit-remaining", "").strip() == "0":
            wait = rate_limit_wait(
                {"x-ratelimit-reset": response.headers.get("x-ratelimit-reset", "")},
                now_epoch(),
                self.ctx.http.max_wait,
            )
            if wait:
                self.ctx.limiter.pause_until(time.monotonic() + wait)

    def _settle_failed(self, batch: Batch, reason: str) -> None:
        for item in batch.items:
            self.ctx.tally.reject("failed", item.row, item_key(item), reason)
        self.ctx.on_progress(len(batch))
