"""Progress for long work: a bar on a terminal, a few plain lines elsewhere (CI logs)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts units of work; draws a tqdm bar on a TTY, else logs every ``log_every`` seconds."""

    def __init__(
        self,
        total: float | None,
        desc: str,
        unit: str = "it",
        stream: TextIO | None = None,
        enabled: bool = True,
        log_every: float = 10.0,
    ):
        self.stream = stream or sys.stderr
        self.desc, self.unit, self.total = desc, unit, total
        self.done = 0.0
        self._bar = None
        self._last_log = time.monotonic()
        self._log_every = log_every
        self._enabled = enabled
        if enabled and self.stream.isatty():
            from tqdm import tqdm

            scale = unit == "B"
            self._bar = tqdm(
                total=total, desc=desc, unit=unit, unit_scale=scale, file=self.stream, leave=False
            )

    @property
    def on_terminal(self) -> bool:
        return self._bar is not None

    def update(self, n: float) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._enabled and time.monotonic() - self._last_log >= self._log_every:
            self._last_log = time.monotonic()
            of = f" of {self.total:,.0f}" if self.total else ""
            print(f"{self.desc}: {self.done:,.0f}{of} {self.unit}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
