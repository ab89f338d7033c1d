"""The spool on disk: rotation, recovery after a crash, the loader's view, the locks."""

import errno
import os

import pytest

from braze_currents.receiver import spool
from braze_currents.receiver.spool import SpoolBusy, SpoolWriter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def lines(n, start=0):
    return [f'{{"events":[{{"id":"e{i}"}}]}}\n'.encode() for i in range(start, start + n)]


def test_lines_are_on_disk_in_an_open_file_the_loader_does_not_see(tmp_path):
    w = SpoolWriter(tmp_path, max_bytes=1 << 20, max_age=60)
    w.append(lines(3))
    assert w.open_path.name.endswith(".ndjson.open")
    assert w.open_path.read_bytes() == b"".join(lines(3))
    assert spool.closed_files(tmp_path) == []
    closed = w.close_file()
    assert spool.closed_files(tmp_path) == [closed]
    assert closed.read_bytes() == b"".join(lines(3))


def test_files_rotate_by_size(tmp_path):
    w = SpoolWriter(tmp_path, max_bytes=60, max_age=3600)
    for i in range(6):
        w.append(lines(1, i))  # 23 bytes each: a file closes once it holds 60 or more
    w.close_file()
    files = spool.closed_files(tmp_path)
    assert [len(f.read_bytes().splitlines()) for f in files] == [3, 3]
    assert b"".join(f.read_bytes() for f in files) == b"".join(lines(6))


def test_files_rotate_by_age(tmp_path):
    clock = Clock()
    w = SpoolWriter(tmp_path, max_bytes=1 << 20, max_age=10, clock=clock)
    w.append(lines(1))
    assert not w.due() and w.seconds_until_due() == 10
    clock.now += 10
    assert w.due()
    w.append(lines(1, 1))  # closes the old file first
    assert len(spool.closed_files(tmp_path)) == 1
    assert w.open_path.read_bytes() == lines(1, 1)[0]


def test_an_empty_file_is_never_left_behind(tmp_path):
    w = SpoolWriter(tmp_path, max_bytes=100, max_age=10)
    assert w.close_file() is None  # nothing was ever opened
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_is_cut_back_to_the_last_acknowledged_line(tmp_path, monkeypatch):
    w = SpoolWriter(tmp_path, max_bytes=1 << 20, max_age=60)
    w.append(lines(2))
    real_write = os.write

    def half_then_full(fd, data):
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spool.os, "write", half_then_full)
    with pytest.raises(OSError, match="No space"):
        w.append(lines(2, 2))
    monkeypatch.undo()
    assert w.open_path.read_bytes() == b"".join(lines(2))
    w.append(lines(1, 9))  # the next write goes on after the last good line
    assert w.open_path.read_bytes() == b"".join(lines(2) + lines(1, 9))


def test_recover_closes_open_files_and_quarantines_a_partial_tail(tmp_path):
    good = b"".join(lines(3))
    (tmp_path / "currents-1-a.ndjson.open").write_bytes(good + b'{"events":[{"id":"hal')
    (tmp_path / "currents-2-b.ndjson.open").write_bytes(good)
    (tmp_path / "currents-3-c.ndjson.open").write_bytes(b'{"events"')  # no complete line
    found = spool.recover(tmp_path)
    assert [p.name for p in found.closed] == ["currents-1-a.ndjson", "currents-2-b.ndjson"]
    assert [p.name for p in spool.closed_files(tmp_path)] == [p.name for p in found.closed]
    assert (tmp_path / "currents-1-a.ndjson").read_bytes() == good
    tails = {p.name: (p.read_bytes(), n) for p, n in found.quarantined}
    assert tails == {
        "currents-1-a.ndjson.open.partial": (b'{"events":[{"id":"hal', 21),
        "currents-3-c.ndjson.open.partial": (b'{"events"', 9),
    }
    assert not list(tmp_path.glob("*.open"))


def test_recover_finds_the_last_newline_beyond_one_block(tmp_path):
    big = b'{"events":[' + b" " * 200_000 + b"]}\n"
    (tmp_path / "currents-1.ndjson.open").write_bytes(big + b"x" * 70_000)
    found = spool.recover(tmp_path)
    assert found.closed[0].read_bytes() == big
    assert found.quarantined[0][1] == 70_000


def test_mark_loaded_moves_the_file_out_of_the_loaders_view(tmp_path):
    w = SpoolWriter(tmp_path, max_bytes=1 << 20, max_age=60)
    w.append(lines(1))
    closed = w.close_file()
    moved = spool.mark_loaded(closed)
    assert moved == tmp_path / "loaded" / closed.name and moved.exists()
    assert spool.closed_files(tmp_path) == []
    assert spool.backlog(tmp_path) == {"files": 0, "bytes": 0, "oldest_seconds": None}


def test_backlog_counts_closed_files_only(tmp_path):
    w = SpoolWriter(tmp_path, max_bytes=1, max_age=60)
    w.append(lines(1))
    w.append(lines(1, 1))  # the first file is closed, the second is open
    b = spool.backlog(tmp_path)
    assert (b["files"], b["bytes"]) == (1, len(lines(1)[0]))


def test_a_lock_is_held_by_one_holder_at_a_time(tmp_path):
    with spool.locked(tmp_path, spool.RECEIVER_LOCK):
        with pytest.raises(SpoolBusy), spool.locked(tmp_path, spool.RECEIVER_LOCK):
            pass
        with spool.locked(tmp_path, spool.LOADER_LOCK):  # the loader's lock is another one
            pass
    with spool.locked(tmp_path, spool.RECEIVER_LOCK):  # released
        pass
