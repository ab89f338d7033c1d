"""One export at a time per ledger: an exclusive ``flock`` on ``<ledger file>.braze_export.lock``.

Two exports that share a ledger (the same model to the same endpoint always do, unless given
different ``--ledger`` files) must not both send: each would read the ledger before the other
recorded anything and send the same rows. The exporter holds this lock from before it reads
the ledger until it has written it; a second export waits up to ``--lock-timeout`` seconds,
then stops (exit 1) naming the export that holds it.

Written here rather than with a library (``filelock``): the whole need is ``fcntl.flock`` on
one file, which the kernel releases when the holder dies (a SIGKILLed export leaves no stale
lock), plus a line saying who holds it, which ``filelock`` does not keep. POSIX only, as the
project is (Linux and macOS).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path

POLL_SECONDS = 0.1

log = logging.getLogger(__name__)


class LockBusy(Exception):
    """Another export holds the lock."""


def lock_path(ledger_file: Path) -> Path:
    return ledger_file.with_name(ledger_file.name + ".braze_export.lock")


class ExportLock:
    """``with ExportLock(path, holder, timeout):`` holds the lock for the block (LockBusy when
    another process keeps it longer than ``timeout`` seconds). ``holder`` describes this export
    (model, mode, endpoint, run id) in the message the next one sees."""

    def __init__(self, path: Path, holder: dict[str, object], timeout: float = 0.0) -> None:
        self.path, self.timeout = path, timeout
        self._holder = holder
        self._fd: int | None = None
        self.waited = 0.0

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        started = time.monotonic()
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() - started >= self.timeout:
                        raise LockBusy(self._busy_message()) from None
                    if not self.waited:
                        self.waited = POLL_SECONDS
                        log.info(
                            "another export is using this ledger (%s); waiting up to %g s",
                            self._holder_text(),
                            self.timeout,
                        )
                    time.sleep(POLL_SECONDS)
            self.waited = time.monotonic() - started
            line = {**self._holder, "pid": os.getpid(), "host": socket.gethostname()}
            line["since"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(line) + "\n").encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _holder_text(self) -> str:
        try:
            holder = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            holder = {}
        return ", ".join(f"{k} {v}" for k, v in holder.items()) or "holder unknown"

    def _busy_message(self) -> str:
        who = self._holder_text()
        waited = f"after waiting {self.timeout:g} s" if self.timeout else "at once"
        return (
            f"another export is using this ledger (lock {self.path}; {who}); stopped {waited}, "
            "nothing was sent. Run exports that share a ledger one after the other (in CI: one "
            "concurrency group), or pass --lock-timeout SECONDS to wait"
        )

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> ExportLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
