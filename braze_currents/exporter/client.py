"""HTTP to Braze: sessions, TLS, and the pure rules for reading Braze's answers.

Retriable: 429 (wait as the rate-limit headers say), 5xx, timeouts and dropped connections
(exponential backoff with jitter, bounded). 401/403 stop the job. 413 and "Max Input Length
Exceeded" split the batch; any other 400 isolates the bad rows.
"""

from __future__ import annotations

import enum
import json
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import requests
import requests.auth
import requests.utils
from requests.adapters import HTTPAdapter

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


class _Bearer(requests.auth.AuthBase):
    """The key as an auth object: requests then never swaps in .netrc credentials."""

    def __init__(self, key: str) -> None:
        self._key = key

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._key}"
        return r

    def __repr__(self) -> str:
        return "_Bearer([REDACTED])"


class BrazeClient:
    """Posts JSON bodies to the REST endpoint, one pooled keep-alive session per thread."""

    def __init__(self, endpoint: str, api_key: str, http: HttpSettings) -> None:
        self._endpoint = endpoint
        self._auth = _Bearer(api_key)
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        self._timeout = (http.connect_timeout, http.read_timeout)
        self._proxies = requests.utils.get_environ_proxies(endpoint)
        # TLS is always verified: against REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE when set, as
        # requests does, else certifi's bundle.
        self._verify: str | bool = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            # The environment's proxies and CA bundle, read once here rather than by requests
            # on every call (it walks os.environ each time: a third of a request's CPU).
            session.trust_env = False
            session.proxies = self._proxies
            session.verify = self._verify
            session.auth = self._auth
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.headers.update(self._headers)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def post(self, path: str, body: bytes) -> Response:
        try:
            r = self._session().post(
                self._endpoint + path, data=body, timeout=self._timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise TransportError(scrub(f"{type(exc).__name__}: {exc}")) from None
        # JSON is UTF-8; r.text would guess the charset with a detector when the answer names
        # none, which costs more than the rest of the request.
        text = r.content.decode("utf-8", errors="replace")
        return Response(
            r.status_code, {k.lower(): v for k, v in r.headers.items()}, text, parse_body(text)
        )

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()


def now_epoch() -> float:
    return time.time()
