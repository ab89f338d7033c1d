"""The spool: append-only NDJSON files between the receiver and the loader.

Layout of a spool directory::

    currents-<UTC time>-<pid>-<lane>-<seq>.ndjson.open   a file the receiver appends to
                                                          (one per lane at most)
    currents-<UTC time>-<pid>-<lane>-<seq>.ndjson        closed: complete, fsync'd, to load
    loaded/currents-....ndjson              loaded into the warehouse (moved there by the loader)
    quarantine/                             bytes a crash left after the last complete line
    .receiver.lock, .loader.lock            one receiver and one loader at a time

A line is acknowledged only after it and everything before it was written and fsync'd, so a
crash can at worst leave an unacknowledged tail without its newline; the next receiver moves
that tail to ``quarantine/`` (logged, never silently dropped) and closes the file. A file is
closed (renamed, then the directory fsync'd) when it reaches its size or age limit, and at
shutdown. The loader only ever sees closed files, and a file it loaded moves to ``loaded/``,
so loading runs safely while the receiver runs and never loads a file twice.

Plain ``os`` calls, no library: the guarantees above hang on the exact order of write, fsync,
rename and directory fsync, which is clearer spelled out than hidden in a wrapper.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PREFIX = "currents-"
CLOSED_SUFFIX = ".ndjson"
OPEN_SUFFIX = ".ndjson.open"
LOADED_DIR = "loaded"
QUARANTINE_DIR = "quarantine"
RECEIVER_LOCK = ".receiver.lock"
LOADER_LOCK = ".loader.lock"


class SpoolBusy(Exception):
    """Another process holds the spool's lock (a second receiver, a second loader)."""


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked(directory: Path, name: str):
    """Hold an exclusive advisory lock on ``directory/name`` (released when the process dies)."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / name, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise SpoolBusy(f"{directory}: {name} is held by another process") from exc
        yield
    finally:
        os.close(fd)


def closed_files(directory: Path) -> list[Path]:
    """Closed spool files not loaded yet, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.iterdir()
        if p.name.startswith(PREFIX) and p.name.endswith(CLOSED_SUFFIX) and p.is_file()
    )


def backlog(directory: Path) -> dict:
    """Closed files waiting for the loader: how many, how many bytes, the oldest one's age."""
    files = closed_files(directory)
    sizes, oldest = 0, None
    for p in files:
        with contextlib.suppress(FileNotFoundError):  # the loader may move it meanwhile
            st = p.stat()
            sizes += st.st_size
            oldest = st.st_mtime if oldest is None else min(oldest, st.st_mtime)
    age = None if oldest is None else round(max(0.0, time.time() - oldest), 1)
    return {"files": len(files), "bytes": sizes, "oldest_seconds": age}


def mark_loaded(path: Path) -> Path:
    """Move a loaded spool file to ``loaded/`` (durably) so it is never loaded again."""
    target_dir = path.parent / LOADED_DIR
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    os.replace(path, target)
    fsync_dir(target_dir)
    fsync_dir(path.parent)
    return target


@dataclass
class Recovered:
    """What a receiver found left open by the previous one."""

    closed: list[Path] = field(default_factory=list)  # files closed as they were
    removed_empty: list[Path] = field(default_factory=list)
    quarantined: list[tuple[Path, int]] = field(default_factory=list)  # (tail file, bytes)


def recover(directory: Path) -> Recovered:
    """Close every file a previous receiver left open (call it holding the receiver lock).

    Complete lines stay; bytes after the last newline (a write a crash interrupted, never
    acknowledged) move to ``quarantine/`` first.
    """
    found = Recovered()
    for path in sorted(directory.glob(f"{PREFIX}*{OPEN_SUFFIX}")):
        with open(path, "r+b") as fh:
            size = fh.seek(0, os.SEEK_END)
            keep = _complete_length(fh, size)
            if keep < size:
                fh.seek(keep)
                tail = fh.read()
                qdir = directory / QUARANTINE_DIR
                qdir.mkdir(exist_ok=True)
                qpath = qdir / (path.name + ".partial")
                with open(qpath, "wb") as q:
                    q.write(tail)
                    q.flush()
                    os.fsync(q.fileno())
                fsync_dir(qdir)
                fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
                found.quarantined.append((qpath, size - keep))
        if keep == 0:
            path.unlink()
            found.removed_empty.append(path)
        else:
            closed = path.with_name(path.name[: -len(".open")])
            os.replace(path, closed)
            found.closed.append(closed)
    if found.closed or found.removed_empty:
        fsync_dir(directory)
    return found


def _complete_length(fh, size: int) -> int:
    """Length of the file up to and including its last newline."""
    pos, block = size, 1 << 16
    while pos > 0:
        start = max(0, pos - block)
        fh.seek(start)
        chunk = fh.read(pos - start)
        i = chunk.rfind(b"\n")
        if i >= 0:
            return start + i + 1
        pos = start
    return 0


class SpoolWriter:
    """Appends lines to its open spool file; one thread at a time calls it (a receiver runs
    several, each with its own file: ``lane`` is in the file's name).

    ``append`` returns only when the lines are on disk (written, then fsync'd): the caller
    acknowledges them after that. Many requests' lines go into one ``append``: one fsync for
    all of them (group commit).
    """

    def __init__(
        self,
        directory: Path,
        max_bytes: int,
        max_age: float,
        clock=time.monotonic,
        lane: int = 0,
    ):
        self.directory = directory
        self.lane = lane
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.clock = clock
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0
        self._opened = 0.0
        self._seq = 0
        self.files_closed = 0

    @property
    def open_path(self) -> Path | None:
        return self._path

    def _open(self) -> None:
        self._seq += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{PREFIX}{stamp}-{os.getpid()}-{self.lane}-{self._seq:06d}{OPEN_SUFFIX}"
        path = self.directory / name
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o640)
        fsync_dir(self.directory)  # the file's name is durable before any line is acknowledged
        self._path, self._size, self._opened = path, 0, self.clock()

    def due(self) -> bool:
        """True when the open file has reached its size or age limit."""
        return self._fd is not None and (
            self._size >= self.max_bytes or self.clock() - self._opened >= self.max_age
        )

    def seconds_until_due(self) -> float | None:
        if self._fd is None:
            return None
        return max(0.0, self.max_age - (self.clock() - self._opened))

    def append(self, lines: list[bytes]) -> int:
        """Write ``lines`` (each ending in a newline) and fsync; returns the bytes written."""
        if self.due():
            self.close_file()
        if self._fd is None:
            self._open()
        data = b"".join(lines)
        start = self._size
        try:
            view = memoryview(data)
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
            # fdatasync: the data and the file size (what reading it back needs), not mtime.
            os.fdatasync(self._fd)
        except OSError:
            self._undo(start)
            raise
        self._size += len(data)
        return len(data)

    def _undo(self, start: int) -> None:
        """After a failed write: cut the file back to its last acknowledged line, or, when even
        that fails, close it as it is (the loader rejects a partial last line with its reason)."""
        try:
            os.ftruncate(self._fd, start)
            os.fsync(self._fd)
        except OSError:
            self.close_file()

    def close_file(self) -> Path | None:
        """Close the open file and make it visible to the loader; None when none was open."""
        if self._fd is None:
            return None
        fd, path = self._fd, self._path
        self._fd, self._path = None, None
        os.fsync(fd)
        os.close(fd)
        if self._size == 0 and path.stat().st_size == 0:
            path.unlink()
            fsync_dir(self.directory)
            return None
        closed = path.with_name(path.name[: -len(".open")])
        os.replace(path, closed)
        fsync_dir(self.directory)
        self.files_closed += 1
        return closed
