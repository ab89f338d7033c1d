"""Client-side rate limiting at Braze's published limits, shared by all sending threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """A token bucket: ``requests`` per ``window`` seconds times ``headroom``, with a burst of a
    tenth of a second's worth. Callers reserve a token and sleep until it is theirs, so waiting
    threads are served in order without spinning. ``pause_until`` holds every caller back, e.g.
    until a 429's ``X-RateLimit-Reset``."""

    def __init__(
        self,
        requests: int,
        window: float,
        headroom: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = max(requests * headroom / window, 1e-9)
        self.capacity = max(1.0, self.rate * 0.1)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds callers spent waiting, in total

    def pause_until(self, when: float) -> None:
        """No request starts before ``when`` (a ``clock()`` time)."""
        with self._lock:
            self._paused_until = max(self._paused_until, when)

    def reserve(self) -> float:
        """Takes a token; returns how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            return max(wait, self._paused_until - now)

    def acquire(self) -> float:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
            with self._lock:
                self.waited += wait
        return wait
