"""Development tooling, not part of the product: a Currents poster and load generator.

It plays Braze's Custom HTTP connector against a receiver: POSTs ``{"events": [...]}`` bodies
with a bearer token, from many concurrent connections, optionally gzipped, and records each
answer and its latency. The tests, ``make bench`` and ``make demo`` use it; nothing in the
receiver or the loader imports it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import math
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp


@dataclass
class Posted:
    index: int
    status: int | None  # None: no answer (connection refused or reset, timeout)
    seconds: float
    error: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def make_body(events: int, tag: str = "", start: int = 1_760_000_000) -> bytes:
    """A compact Currents body of ``events`` distinct events (ids unique per call)."""
    prefix = tag or uuid.uuid4().hex[:12]
    return json.dumps(
        {
            "events": [
                {
                    "event_type": "users.messages.email.Open",
                    "id": f"{prefix}-{i}",
                    "time": start + i,
                    "user": {"user_id": f"braze-{i % 97}", "external_user_id": f"u{i % 97}"},
                    "properties": {
                        "campaign_id": "c-1",
                        "dispatch_id": f"d-{i // 10}",
                        "email_address": f"u{i % 97}@example.com",
                        "machine_open": "false",
                        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
                    },
                }
                for i in range(events)
            ]
        },
        separators=(",", ":"),
    ).encode()


async def post_all(
    url: str,
    bodies: list[bytes],
    *,
    token: str | None,
    concurrency: int = 32,
    gzip_bodies: bool = False,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = 30.0,
    on_answer: Callable[[Posted], None] | None = None,
) -> list[Posted]:
    """POST every body once, ``concurrency`` at a time; one ``Posted`` per body, in order."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if gzip_bodies:
        headers["Content-Encoding"] = "gzip"
        bodies = [gzip.compress(b, compresslevel=1) for b in bodies]
    results: list[Posted | None] = [None] * len(bodies)
    queue = iter(range(len(bodies)))
    connector = aiohttp.TCPConnector(limit=concurrency, ssl=ssl_context if ssl_context else True)
    client_timeout = aiohttp.ClientTimeout(total=timeout)

    async def worker(session: aiohttp.ClientSession) -> None:
        for i in queue:
            started = time.perf_counter()
            try:
                async with session.post(url, data=bodies[i], headers=headers) as resp:
                    await resp.read()
                    posted = Posted(i, resp.status, time.perf_counter() - started)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                posted = Posted(i, None, time.perf_counter() - started, f"{type(exc).__name__}")
            results[i] = posted
            if on_answer is not None:
                on_answer(posted)

    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return [r for r in results if r is not None]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
    return ordered[rank]
