"""HTTP to Braze (``requests`` sets up proxies and TLS, urllib3 posts over keep-alive
connections), and the pure rules for reading Braze's answers.

Retriable: 429 (wait as the rate-limit headers say), 5xx, timeouts and dropped connections
(exponential backoff with jitter, bounded). 401/403 stop the job. 413 and "Max Input Length
Exceeded" split the batch; any other 400 isolates the bad rows.
"""

from __future__ import annotations

import enum
import json
import random
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import certifi
import requests
import requests.adapters
import urllib3
import urllib3.connectionpool
import urllib3.exceptions

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
        inner = [a for a in (*exc.args, getattr(exc, "reason", None)) if a is not exc]
        if any(isinstance(a, BaseException) and is_certificate_failure(a) for a in inner):
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
            and (array is None or array == kind.partition("#")[0])
        ):
            mapped.setdefault(index, reason)
        else:
            unmapped.append(json.dumps(error)[:300])
    return mapped, unmapped


class BrazeClient:
    """Posts JSON bodies to the REST endpoint: ``requests`` sets the connection up, ``urllib3``
    (which ``requests`` sends through) posts; one keep-alive connection per thread.

    The proxy and CA settings come resolved from the environment once per run (``settings.
    check_proxy`` / ``check_ca_bundle``, by requests' and urllib's own rules). On its first
    request each thread asks a ``requests`` ``HTTPAdapter`` of its own for the urllib3
    connection pool it would send through (``get_connection_with_tls_context``: the proxy
    manager for an http, https or SOCKS proxy with its ``Proxy-Authorization``, TLS verified
    against ``http.ca_bundle``, a file or a directory, else certifi's bundle, as
    ``cert_verify`` sets it) and keeps it; every request is then one ``urlopen`` on that pool
    with headers, timeouts and URL built once. What this skips of ``Session.send`` is the
    work it repeats per request for nothing here: merging settings and hooks, a ``stat`` of
    the CA bundle, looking the pool up again, cookies, wrapping the answer in a ``Response``.
    Measured on the project's 2-core machine, one thread posting 75-event bodies to the
    emulator, CPU per request (best of 7): ``Session.send`` of a prepared request 0.51 ms,
    this path 0.30 ms, urllib3's ``urlopen`` alone 0.32 ms, ``http.client`` 0.16 ms; in the
    export benchmark (667 requests, 16 threads) the sending threads' CPU fell from 0.46-0.55 s
    to 0.34-0.35 s a run. Going below urllib3 (to ``http.client``) would mean owning the proxy
    tunnel and TLS set-up again, which issue 13 took out.

    Redirects are not followed; urllib3 retries nothing (the sender decides); a connection
    the server closed while idle is replaced by urllib3 before it is used."""

    def __init__(self, endpoint: str, api_key: str, http: HttpSettings) -> None:
        parts = urllib.parse.urlsplit(endpoint)
        self._host = parts.hostname or ""
        self._base = endpoint.rstrip("/")
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": f"Bearer {api_key}",
        }
        self._timeout = urllib3.Timeout(connect=http.connect_timeout, read=http.read_timeout)
        self._proxies = {parts.scheme: http.proxy} if http.proxy else {}
        self._verify: str | bool = http.ca_bundle or certifi.where()
        self._urls: dict[str, str] = {}  # path -> the URL urlopen is given (full via a proxy)
        self._local = threading.local()
        self._adapters: list[requests.adapters.HTTPAdapter] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BrazeClient({self._host!r})"

    def _pool(
        self,
    ) -> tuple[urllib3.connectionpool.HTTPConnectionPool, requests.adapters.HTTPAdapter]:
        """This thread's connection pool (one connection), set up by requests once."""
        mine = getattr(self._local, "pool", None)
        if mine is None:
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1)
            with self._lock:
                self._adapters.append(adapter)
            request = requests.Request("POST", self._base + "/").prepare()
            pool = adapter.get_connection_with_tls_context(
                request, self._verify, proxies=self._proxies
            )
            adapter.cert_verify(pool, self._base + "/", self._verify, None)
            mine = self._local.pool = (pool, adapter)
        return mine

    def _url(self, path: str, adapter: requests.adapters.HTTPAdapter) -> str:
        url = self._urls.get(path)
        if url is None:
            request = requests.Request("POST", self._base + path).prepare()
            url = self._urls[path] = adapter.request_url(request, self._proxies)
        return url

    def post(self, path: str, body: bytes) -> Response:
        try:
            pool, adapter = self._pool()
            answer = pool.urlopen(
                "POST",
                self._url(path, adapter),
                body=body,
                headers=self._headers,
                redirect=False,
                assert_same_host=False,
                retries=adapter.max_retries,
                timeout=self._timeout,
            )
            raw = answer.data
        except (
            urllib3.exceptions.HTTPError,
            requests.RequestException,
            OSError,
            ValueError,
        ) as exc:
            if is_certificate_failure(exc):
                raise CertificateError(scrub(f"{exc}; {CERTIFICATE_HINT}")) from None
            raise TransportError(scrub(f"{type(exc).__name__}: {exc}")) from None
        # JSON is UTF-8.
        text = raw.decode("utf-8", errors="replace")
        headers = {k.lower(): v for k, v in answer.headers.items()}
        return Response(answer.status, headers, text, parse_body(text))

    def close(self) -> None:
        with self._lock:
            adapters, self._adapters = self._adapters, []
        for adapter in adapters:
            adapter.close()


def now_epoch() -> float:
    return time.time()
