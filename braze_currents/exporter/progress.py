"""Progress: a tqdm bar on a terminal, plain log lines elsewhere (CI, pipes, files)."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import TextIO

log = logging.getLogger("braze_currents.exporter")


def choose_style(requested: str, stream: TextIO | None = None, environ=None) -> str:
    """``bar`` on an interactive terminal outside CI, else ``log``; ``off`` when asked."""
    if requested != "auto":
        return requested
    env = os.environ if environ is None else environ
    stream = stream or sys.stderr
    interactive = hasattr(stream, "isatty") and stream.isatty()
    return "bar" if interactive and not env.get("CI") else "log"


class Progress:
    """Counts rows through one phase. Thread-safe: sending threads call ``advance``."""

    def __init__(self, style: str, label: str, total: int | None, interval: float = 10.0) -> None:
        self.style = style
        self.label = label
        self.total = total
        self.interval = interval
        self.done = 0
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._last_log = self._started
        self._bar = None
        if style == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=label, unit="row", file=sys.stderr, leave=False)

    def advance(self, n: int, note: str = "") -> None:
        if self.style == "off" or (n <= 0 and not note):
            return
        with self._lock:
            self.done += n
            if self._bar is not None:
                self._bar.update(n)
                if note:
                    self._bar.set_postfix_str(note, refresh=False)
                return
            if self.style != "log":
                return
            now = time.monotonic()
            if now - self._last_log >= self.interval:
                self._last_log = now
                self._log_line(now, note)

    def _log_line(self, now: float, note: str) -> None:
        elapsed = max(now - self._started, 1e-9)
        of = f"/{self.total}" if self.total is not None else ""
        rate = self.done / elapsed
        extra = f", {note}" if note else ""
        log.info("%s: %d%s rows, %.0f rows/s%s", self.label, self.done, of, rate, extra)

    def close(self, note: str = "") -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            elif self.style == "log" and self.done:
                self._log_line(time.monotonic(), note)
