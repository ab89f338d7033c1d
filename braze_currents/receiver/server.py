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
stream), 415 for an unknown ``Content-Encoding``. A body that is not JSON is still
stored: the loader rejects it with its reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import ssl
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
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

    It drives ``lanes`` spool writers, each appending to its own file from its own thread. A
    line waits in memory until a lane is free; that lane then takes every line waiting, writes
    them and fsyncs once, and the committer acknowledges them all. Several lanes keep several
    fsyncs in flight, which is what keeps the throughput up when the disk is slow to sync (one
    lane waits for each fsync in turn). Lanes never share a file or a file descriptor, so every
    fsync reports the errors of its own writes.
    """

    def __init__(self, writers: list[spool.SpoolWriter]):
        self.writers = writers
        self._idle = list(reversed(writers))
        self._pending: list[tuple[bytes, asyncio.Future]] = []
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(len(writers), thread_name_prefix="spool-writer")
        self._task: asyncio.Task | None = None
        self._closing = False
        self.fsyncs = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    @property
    def open_paths(self) -> list[Path]:
        return [w.open_path for w in self.writers if w.open_path is not None]

    @property
    def files_closed(self) -> int:
        return sum(w.files_closed for w in self.writers)

    async def commit(self, line: bytes) -> None:
        """Return once ``line`` is written and fsync'd; raise ``OSError`` when it is not."""
        if self._closing:
            raise OSError("the receiver is shutting down")
        future = asyncio.get_running_loop().create_future()
        self._pending.append((line, future))
        self._wake.set()
        await future

    async def _call(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        running: set[asyncio.Task] = set()
        while True:
            self._wake.clear()
            if self._pending and self._idle:
                writer = self._idle.pop()
                batch, self._pending = self._pending, []
                task = loop.create_task(self._write(writer, batch))
                running.add(task)
                task.add_done_callback(running.discard)
                continue
            if self._closing and not self._pending and not running:
                break
            due = [w for w in self._idle if w.due()]
            if due:
                for writer in due:
                    self._idle.remove(writer)
                    await self._rotate(writer)
                    self._idle.append(writer)
                continue
            waits = [w.seconds_until_due() for w in self._idle]
            timeout = min((t for t in waits if t is not None), default=None)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
        for writer in self.writers:
            await self._rotate(writer)

    async def _write(self, writer: spool.SpoolWriter, batch: list) -> None:
        try:
            before = writer.open_path
            await self._call(writer.append, [line for line, _ in batch])
            self.fsyncs += 1
            if before is not None and writer.open_path != before:
                log.info("spool file closed", extra={"fields": {"file": before.name}})
        except Exception as exc:  # any failure: nothing acknowledged, the writer goes on
            log.error(
                "spool write failed; answering 503 so Braze retries",
                extra={"fields": {"bodies": len(batch), "error": repr(exc)}},
            )
            failure = exc if isinstance(exc, OSError) else OSError(repr(exc))
            for _, future in batch:
                if not future.done():
                    future.set_exception(failure)
        else:
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
        finally:
            self._idle.append(writer)
            self._wake.set()

    async def _rotate(self, writer: spool.SpoolWriter) -> None:
        try:
            closed = await self._call(writer.close_file)
        except OSError as exc:
            log.error("cannot close the spool file", extra={"fields": {"error": str(exc)}})
            return
        if closed is not None:
            log.info("spool file closed", extra={"fields": {"file": closed.name}})

    async def close(self) -> None:
        """Write what is pending, close the open files, stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        self._executor.shutdown(wait=True)


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
        raw = await request.read()
        body = decode_body(raw, request.headers.get("Content-Encoding"), limit)
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
