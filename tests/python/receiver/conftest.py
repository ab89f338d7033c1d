"""Receivers run as real processes on 127.0.0.1 (port 0), stopped by the fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from receiver_testing import Receiver


@pytest.fixture
def start_receiver(tmp_path):
    """Factory: start a receiver (on ``tmp_path/spool`` unless told); all stop at teardown."""
    started: list[Receiver] = []

    def start(*args: str, spool: Path | None = None, **kw) -> Receiver:
        r = Receiver(spool or tmp_path / "spool", *args, **kw)
        started.append(r)
        return r.start()

    yield start
    for r in started:
        r.kill()


@pytest.fixture(scope="session")
def shared_receiver(tmp_path_factory):
    """One receiver for the request-level tests (8 MiB body limit, files close every 1 s)."""
    r = Receiver(
        tmp_path_factory.mktemp("shared") / "spool", "--max-body", "8M", "--rotate-seconds", "1"
    ).start()
    yield r
    r.kill()
