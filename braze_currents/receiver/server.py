"""The receiver's HTTP server: Braze's Custom HTTP connector POSTs here.

Server library: aiohttp. It is a maintained, production HTTP/1.1 server (llhttp's C parser,
keep-alive, TLS from the standard ``ssl`` module, graceful shutdown that waits for in-flight
handlers), it needs no separate ASGI server or framework, and its asyncio model lets one
process hold hundreds of connections while a single writer thread fsyncs for all of them.
It enforces the maximum body size while reading; ``body.decode_body`` then inflates
``Content-Encoding: gzip``/``deflate`` bodies (aiohttp's own inflater would store a truncated
gzip stream as what it could inflate).

A POST is answered 200 only once its body is on disk: the handler hands the body's line to the
``GroupCommitter`` and waits; the committer writes every line that arrived meanwhile and fsyncs
once (group commit), then acknowledges them all. A write that fails is answered 503, so Braze
retries it. Refusals: 401 without the right bearer token, 413 above the size limit (also once
inflated), 400 for an empty body or one that cannot be read (a broken or truncated gzip
stream), 415 for an unknown ``Content-Encoding``, 408 for a body that does not arrive within
``read_seconds`` (a stalled client holds no memory for long). A body that is not JSON is still
stored: the loader rejects it with its reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from braze_currents.receiver import spool
from braze_currents.receiver.body import (
    BodyError,
    authorized,
    decode_body,
    spool_line,
    token_digest,
)

log = logging.getLogger("braze_currents.receiver")

ROUTES = ("/", "/currents")
_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class ReceiverSettings:
    spool_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None  # None only with --allow-no-token
    max_body_bytes: int = 32 << 20
    rotate_bytes: int = 64 << 20
    rotate_seconds: float = 60.0
    lanes: int = 4  # spool files written (and fsync'd) in parallel
    tls_cert: Path | None = None
    tls_key: Path | None = None
    stats_seconds: float = 60.0
    read_seconds: float = 60.0  # a client slower than this to send its body gets 408
    shutdown_seconds: float = 30.0
    access_log: bool = False

    def __repr__(self) -> str:  # never show the token
        return f"ReceiverSettings(spool_dir={self.spool_dir}, host={self.host}, port={self.port})"


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    bodies: int = 0
    events: int = 0
    bytes: int = 0
    invalid_json: int = 0
    refused: Counter = field(default_factory=Counter)  # reason -> requests

    def as_dict(self) -> dict:
        return {
            "uptime_seconds": round(time.monotonic() - self.started, 1),
            "bodies": self.bodies,
            "events": self.events,
            "bytes": self.bytes,
            "invalid_json_bodies": self.invalid_json,
            "refused": dict(self.refused),
        }


class GroupCommitter:
    """Writes lines to the spool; many requests share each fsync (group commit).

    ``lanes`` writer threads each own a spool file. A handler queues its line and waits; a lane
    that is free takes every line queued, appends them in one write, fsyncs once, and only then
    are they all acknowledged. While a lane syncs, lines queue for the next free lane, so the
    busier the receiver, the more lines share an fsync. Several lanes keep several fsyncs in
    flight, which holds the throughput up when the disk is slow to sync, and a lane goes
    straight from one batch to the next without a round trip through the event loop. Lanes
    share no file descriptor, so each fsync reports the errors of its own writes.
    """

    def __init__(self, writers: list[spool.SpoolWriter]):
        self.writers = writers
        self._queue: list[tuple[bytes, asyncio.Future]] = []
        self._cond = threading.Condition()
        self._closing = False
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.fsyncs = 0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for writer in self.writers:
            thread = threading.Thread(
                target=self._lane, args=(writer,), name=f"spool-lane-{writer.lane}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    @property
    def open_paths(self) -> list[Path]:
        return [p for p in (w.open_path for w in self.writers) if p is not None]

    @property
    def files_closed(self) -> int:
        return sum(w.files_closed for w in self.writers)

    async def commit(self, line: bytes) -> None:
        """Return once ``line`` is written and fsync'd; raise ``OSError`` when it is not."""
        future = self._loop.create_future()
        with self._cond:
            if self._closing:
                raise OSError("the receiver is shutting down")
            self._queue.append((line, future))
            self._cond.notify()
        await future

    # ---- the lanes' threads ----------------------------------------------------------------
    def _lane(self, writer: spool.SpoolWriter) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing and not writer.due():
                    self._cond.wait(writer.seconds_until_due())
                batch, self._queue = self._queue, []
                closing = self._closing
            if batch:
                self._write(writer, batch)
            elif closing:
                break
            else:
                self._rotate(writer)
        self._rotate(writer)

    def _write(self, writer: spool.SpoolWriter, batch: list) -> None:
        before = writer.open_path
        try:
            writer.append([line for line, _ in batch])
        except Exception as exc:  # any failure: nothing acknowledged, the lane goes on
            log.error(
                "spool write failed; answering 503 so Braze retries",
                extra={"fields": {"bodies": len(batch), "error": repr(exc)}},
            )
            failure = exc if isinstance(exc, OSError) else OSError(repr(exc))
            self._settle(batch, failure)
            return
        with self._cond:
            self.fsyncs += 1
        self._settle(batch, None)
        if before is not None and writer.open_path != before:
            log.info("spool file closed", extra={"fields": {"file": before.name}})

    def _settle(self, batch: list, failure: Exception | None) -> None:
        def settle() -> None:
            for _, future in batch:
                if future.done():
                    continue
                if failure is None:
                    future.set_result(None)
                else:
                    future.set_exception(failure)

        with contextlib.suppress(RuntimeError):  # the loop is closed: no one is waiting
            self._loop.call_soon_threadsafe(settle)

    def _rotate(self, writer: spool.SpoolWriter) -> None:
        try:
            closed = writer.close_file()
        except OSError as exc:
            log.error("cannot close the spool file", extra={"fields": {"error": str(exc)}})
            return
        if closed is not None:
            log.info("spool file closed", extra={"fields": {"file": closed.name}})

    async def close(self) -> None:
        """Write what is queued, close the open files, stop the lanes."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        for thread in self._threads:
            await asyncio.get_running_loop().run_in_executor(None, thread.join)


STATS_KEY = web.AppKey("stats", Stats)
COMMITTER_KEY = web.AppKey("committer", GroupCommitter)
SETTINGS_KEY = web.AppKey("settings", ReceiverSettings)
TOKEN_KEY = web.AppKey("token_digest", object)  # bytes, or None without a token


def _refuse(stats: Stats, status: int, reason: str, message: str, **headers) -> web.Response:
    stats.refused[reason] += 1
    return web.json_response({"error": message}, status=status, headers=headers or None)


async def receive(request: web.Request) -> web.Response:
    app = request.app
    stats, settings = app[STATS_KEY], app[SETTINGS_KEY]
    if not authorized(request.headers.get("Authorization"), app[TOKEN_KEY]):
        log.warning("refused: no or wrong bearer token", extra={"fields": _who(request)})
        return _refuse(stats, 401, "unauthorized", "unauthorized", **{"WWW-Authenticate": "Bearer"})
    limit = settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return _too_large(request, stats, limit)
    try:
        async with asyncio.timeout(settings.read_seconds):
            raw = await request.read()
        body = decode_body(raw, request.headers.get("Content-Encoding"), limit)
    except TimeoutError:
        log.warning(
            "refused: the body did not arrive in time",
            extra={"fields": {**_who(request), "seconds": settings.read_seconds}},
        )
        return _refuse(stats, 408, "timeout", "the body did not arrive in time")
    except web.HTTPRequestEntityTooLarge:
        return _too_large(request, stats, limit)
    except BodyError as exc:
        if exc.status == 413:
            return _too_large(request, stats, limit)
        log.warning(
            "refused: unreadable body", extra={"fields": {**_who(request), "error": str(exc)}}
        )
        return _refuse(stats, exc.status, exc.reason, str(exc))
    except (HttpProcessingError, OSError) as exc:
        log.warning(
            "refused: unreadable body", extra={"fields": {**_who(request), "error": str(exc)}}
        )
        return _refuse(stats, 400, "unreadable", f"cannot read the body: {exc}")
    if not body or body.isspace():  # isspace() stops at the first other byte, no copy
        log.warning("refused: empty body", extra={"fields": _who(request)})
        return _refuse(stats, 400, "empty", "empty body")
    line = spool_line(body)
    try:
        await app[COMMITTER_KEY].commit(line.data)
    except OSError:
        return _refuse(stats, 503, "write_failed", "not stored, retry", **{"Retry-After": "5"})
    stats.bodies += 1
    stats.bytes += len(body)
    stats.events += line.events or 0
    if not line.valid_json:
        stats.invalid_json += 1
        log.warning(
            "stored a body that is not JSON (the loader will reject it)",
            extra={"fields": {**_who(request), "bytes": len(body)}},
        )
    events = "null" if line.events is None else line.events
    return web.Response(body=f'{{"stored":true,"events":{events}}}'.encode(), headers=_JSON)


def _too_large(request: web.Request, stats: Stats, limit: int) -> web.Response:
    log.warning(
        "refused: body above the size limit",
        extra={"fields": {**_who(request), "limit": limit}},
    )
    return _refuse(stats, 413, "too_large", f"body above {limit} bytes")


def _who(request: web.Request) -> dict:
    return {"remote": request.remote, "path": request.path}


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def status_dict(app: web.Application) -> dict:
    committer = app[COMMITTER_KEY]
    settings = app[SETTINGS_KEY]
    return {
        **app[STATS_KEY].as_dict(),
        "fsyncs": committer.fsyncs,
        "spool": {
            "directory": str(settings.spool_dir),
            "open_files": [p.name for p in committer.open_paths],
            "files_closed": committer.files_closed,
            "backlog": spool.backlog(settings.spool_dir),
        },
    }


async def status(request: web.Request) -> web.Response:
    if not authorized(request.headers.get("Authorization"), request.app[TOKEN_KEY]):
        return _refuse(request.app[STATS_KEY], 401, "unauthorized", "unauthorized")
    return web.json_response(status_dict(request.app))


def build_app(settings: ReceiverSettings, committer: GroupCommitter) -> web.Application:
    # client_max_size is checked with >=; one more byte lets a body of exactly the limit in.
    # The body is read as sent (compressed or not) and decoded by decode_body().
    app = web.Application(
        client_max_size=settings.max_body_bytes + 1, handler_args={"auto_decompress": False}
    )
    app[SETTINGS_KEY] = settings
    app[STATS_KEY] = Stats()
    app[COMMITTER_KEY] = committer
    app[TOKEN_KEY] = token_digest(settings.token) if settings.token else None
    for route in ROUTES:
        app.router.add_post(route, receive)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/status", status)
    return app


def tls_context(settings: ReceiverSettings) -> ssl.SSLContext | None:
    if not settings.tls_cert:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(settings.tls_cert, settings.tls_key)
    return ctx


async def _stats_logger(app: web.Application, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        log.info("stats", extra={"fields": status_dict(app)})


async def serve(settings: ReceiverSettings, stop: asyncio.Event | None = None) -> int:
    """Run until SIGTERM/SIGINT (or ``stop``); returns the exit code."""
    ssl_ctx = tls_context(settings)
    settings.spool_dir.mkdir(parents=True, exist_ok=True)
    with spool.locked(settings.spool_dir, spool.RECEIVER_LOCK):
        found = spool.recover(settings.spool_dir)
        if found.closed or found.removed_empty or found.quarantined:
            log.warning(
                "recovered files a previous receiver left open",
                extra={
                    "fields": {
                        "closed": [p.name for p in found.closed],
                        "removed_empty": len(found.removed_empty),
                        "quarantined_tails": [
                            {"file": str(p), "bytes": n} for p, n in found.quarantined
                        ],
                    }
                },
            )
        committer = GroupCommitter(
            [
                spool.SpoolWriter(
                    settings.spool_dir, settings.rotate_bytes, settings.rotate_seconds, lane=lane
                )
                for lane in range(settings.lanes)
            ]
        )
        committer.start()
        app = build_app(settings, committer)
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=log if settings.access_log else None,
            shutdown_timeout=settings.shutdown_seconds,
        )
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port, ssl_context=ssl_ctx, backlog=1024)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            await committer.close()
            log.error("cannot listen", extra={"fields": {"error": str(exc)}})
            return 1
        host, port = runner.addresses[0][:2]
        log.info(
            "listening",
            extra={
                "fields": {
                    "host": host,
                    "port": port,
                    "scheme": "https" if ssl_ctx else "http",
                    "routes": list(ROUTES),
                    "spool": str(settings.spool_dir),
                    "token": "required" if settings.token else "NOT REQUIRED",
                    "max_body_bytes": settings.max_body_bytes,
                }
            },
        )
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        ticker = loop.create_task(_stats_logger(app, settings.stats_seconds))
        await stop.wait()
        log.info("stopping: finishing requests in flight")
        ticker.cancel()
        await runner.cleanup()  # stops listening, waits for the handlers in flight
        await committer.close()  # writes what they handed over, closes the spool file
        log.info("stopped", extra={"fields": status_dict(app)})
    return 0


class JsonFormatter(logging.Formatter):
    """One JSON object per log line: time, level, message and the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        out.update(getattr(record, "fields", {}) or {})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
