"""HTTP to Braze: keep-alive connections, TLS, and the pure rules for reading Braze's answers.

Retriable: 429 (wait as the rate-limit headers say), 5xx, timeouts and dropped connections
(exponential backoff with jitter, bounded). 401/403 stop the job. 413 and "Max Input Length
Exceeded" split the batch; any other 400 isolates the bad rows.
"""

from __future__ import annotations

import base64
import enum
import http.client
import json
import random
import select
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import certifi

from braze_currents import __version__
from braze_currents.exporter.redact import scrub
from braze_currents.exporter.settings import HttpSettings

USER_AGENT = f"braze-currents-warehouse-exporter/{__version__}"
EPOCH_THRESHOLD = 1_000_000_000  # a reset header above this is a unix time, below it seconds


class AuthError(Exception):
    """Braze refused the key (401) or the key lacks the endpoint's permission (403)."""


class FatalHttpError(Exception):
    """An answer that no retry or split can fix (404 bad endpoint, 415...): stop the job."""


class TransportError(Exception):
    """No answer: connection refused or dropped, timeout. Retriable."""


class CertificateError(Exception):
    """Braze's TLS certificate could not be verified: a configuration error (a CA bundle that
    lacks the issuer, a TLS-intercepting proxy, a wrong host), never retried."""


CERTIFICATE_HINT = (
    "check REQUESTS_CA_BUNDLE / SSL_CERT_FILE (a proxy that intercepts TLS needs its CA there) "
    "and BRAZE_REST_ENDPOINT's host"
)


def is_certificate_failure(exc: BaseException | None) -> bool:
    """Whether ``exc`` or an exception it was raised from is a failed certificate check."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ssl.SSLCertVerificationError | ssl.CertificateError):
            return True
        if any(isinstance(arg, BaseException) and is_certificate_failure(arg) for arg in exc.args):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


class Verdict(enum.Enum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"
    RETRY = "retry"
    AUTH = "auth"
    SPLIT = "split"
    BAD_REQUEST = "bad_request"
    FATAL = "fatal"


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # names lower-cased
    text: str
    data: dict | None = field(default=None)

    @property
    def message(self) -> str:
        if isinstance(self.data, dict) and isinstance(self.data.get("message"), str):
            return self.data["message"]
        return self.text[:300]


def parse_body(text: str) -> dict | None:
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def classify(response: Response) -> Verdict:
    status = response.status
    if 200 <= status < 300:
        return Verdict.OK
    if status == 429:
        return Verdict.RATE_LIMITED
    if status in (401, 403):
        return Verdict.AUTH
    if status == 413:
        return Verdict.SPLIT
    if status == 400:
        if "max input length" in response.message.lower():
            return Verdict.SPLIT
        return Verdict.BAD_REQUEST
    if status >= 500 or status == 408:
        return Verdict.RETRY
    return Verdict.FATAL


def backoff_delay(
    attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with jitter: between half and all of ``base * 2**attempt``, at most
    ``cap``."""
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    return ceiling / 2 + rand() * ceiling / 2


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def rate_limit_wait(headers: Mapping[str, str], now: float, max_wait: float) -> float | None:
    """Seconds a 429 asks to wait: ``X-Ratelimit-Retry-After`` / ``Retry-After`` (seconds), or
    ``X-RateLimit-Reset`` (unix time or seconds remaining, whichever it looks like). Header
    names must already be lower-cased. None when the answer says nothing usable."""
    for name in ("x-ratelimit-retry-after", "retry-after"):
        seconds = _number(headers.get(name))
        if seconds is not None:
            return min(max_wait, max(0.0, seconds))
    reset = _number(headers.get("x-ratelimit-reset"))
    if reset is not None:
        seconds = reset - now if reset > EPOCH_THRESHOLD else reset
        return min(max_wait, max(0.0, seconds))
    return None


def object_errors(data: dict | None, kind: str, count: int) -> tuple[dict[int, str], list[str]]:
    """Braze's ``errors`` list mapped to positions in the request array ``kind``: errors whose
    ``input_array`` is this array (or absent) and whose ``index`` is in range, and the others."""
    mapped: dict[int, str] = {}
    unmapped: list[str] = []
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return mapped, unmapped
    for error in errors:
        if not isinstance(error, dict):
            unmapped.append(str(error)[:300])
            continue
        reason = str(error.get("type") or error.get("message") or "rejected by Braze")
        index = error.get("index")
        array = error.get("input_array")
        if (
            isinstance(index, int)
            and not isinstance(index, bool)
            and 0 <= index < count
            and (array is None or array == kind)
        ):
            mapped.setdefault(index, reason)
        else:
            unmapped.append(json.dumps(error)[:300])
    return mapped, unmapped


def _peer_closed(sock: socket.socket) -> bool:
    """Whether an idle keep-alive connection was closed by the other end (or has bytes no
    request asked for): then it is not reused. One poll, no waiting."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class BrazeClient:
    """Posts JSON bodies to the REST endpoint over one keep-alive connection per thread.

    Built on the standard library's ``http.client``: a request costs a quarter of the CPU it
    costs through ``requests`` (measured: 50,000 events in 667 requests, 0.09 CPU seconds
    against 0.37), which matters at Braze's rate limits (1,000 requests a second on
    /users/track). TLS is always verified (against ``http.ca_bundle``, else certifi's bundle);
    ``http.proxy`` is reached through a CONNECT tunnel; redirects are not followed; a connection
    the server closed while idle is replaced before it is used."""

    def __init__(self, endpoint: str, api_key: str, http: HttpSettings) -> None:
        parts = urllib.parse.urlsplit(endpoint)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": f"Bearer {api_key}",
        }
        self._connect_timeout = http.connect_timeout
        self._read_timeout = http.read_timeout
        self._proxy = urllib.parse.urlsplit(http.proxy) if http.proxy else None
        self._tls = (
            ssl.create_default_context(cafile=http.ca_bundle or certifi.where())
            if self._https
            else None
        )
        self._local = threading.local()
        self._open: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BrazeClient({self._host!r})"

    def _new_connection(self) -> http.client.HTTPConnection:
        timeout = self._connect_timeout
        if self._proxy is not None:
            proxy_port = self._proxy.port or (443 if self._proxy.scheme == "https" else 80)
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self._proxy.hostname or "", proxy_port, timeout=timeout, context=self._tls
            )
            headers = {}
            if self._proxy.username:
                user = urllib.parse.unquote(self._proxy.username)
                password = urllib.parse.unquote(self._proxy.password or "")
                token = base64.b64encode(f"{user}:{password}".encode()).decode()
                headers["Proxy-Authorization"] = f"Basic {token}"
            conn.set_tunnel(self._host, self._port, headers=headers)
        elif self._https:
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=timeout, context=self._tls
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        conn.connect()  # within the connect timeout; answers within the read timeout
        conn.sock.settimeout(self._read_timeout)
        with self._lock:
            self._open.add(conn)
        return conn

    def _discard(self, conn: http.client.HTTPConnection) -> None:
        self._local.conn = None
        with self._lock:
            self._open.discard(conn)
        conn.close()

    def post(self, path: str, body: bytes) -> Response:
        conn = getattr(self._local, "conn", None)
        try:
            if conn is not None and (conn.sock is None or _peer_closed(conn.sock)):
                self._discard(conn)
                conn = None
            if conn is None:
                conn = self._local.conn = self._new_connection()
            conn.request("POST", self._prefix + path, body, self._headers)
            answer = conn.getresponse()
            raw = answer.read()
            headers = {k.lower(): v for k, v in answer.getheaders()}
            if answer.will_close:
                self._discard(conn)
        except (OSError, http.client.HTTPException) as exc:
            if conn is not None:
                self._discard(conn)
            if is_certificate_failure(exc):
                raise CertificateError(scrub(f"{exc}; {CERTIFICATE_HINT}")) from None
            raise TransportError(scrub(f"{type(exc).__name__}: {exc}")) from None
        # JSON is UTF-8.
        text = raw.decode("utf-8", errors="replace")
        return Response(answer.status, headers, text, parse_body(text))

    def close(self) -> None:
        with self._lock:
            conns, self._open = self._open, set()
        for conn in conns:
            conn.close()


def now_epoch() -> float:
    return time.time()
