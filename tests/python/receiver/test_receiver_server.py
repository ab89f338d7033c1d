"""The server's parts in process: the group committer, and a spool that cannot be written."""

from __future__ import annotations

import asyncio
import errno

import pytest
from aiohttp.test_utils import TestClient, TestServer

from braze_currents.receiver import spool
from braze_currents.receiver.server import GroupCommitter, ReceiverSettings, build_app


class FailingWriter(spool.SpoolWriter):
    def append(self, lines):
        raise OSError(errno.ENOSPC, "No space left on device")


def run(coro):
    return asyncio.run(coro)


def test_lines_from_many_requests_share_fsyncs_and_all_land(tmp_path):
    async def main():
        committer = GroupCommitter([spool.SpoolWriter(tmp_path, 1 << 20, 60, lane=0)])
        committer.start()
        lines = [b'{"events":[{"id":"%d"}]}\n' % i for i in range(200)]
        await asyncio.gather(*(committer.commit(line) for line in lines))
        fsyncs = committer.fsyncs
        await committer.close()
        return lines, fsyncs

    lines, fsyncs = run(main())
    stored = b"".join(p.read_bytes() for p in spool.closed_files(tmp_path))
    assert sorted(stored.splitlines(keepends=True)) == sorted(lines)
    assert fsyncs < len(lines)


def test_lanes_write_separate_files(tmp_path):
    async def main():
        writers = [spool.SpoolWriter(tmp_path, 1 << 20, 60, lane=n) for n in range(3)]
        committer = GroupCommitter(writers)
        committer.start()
        await asyncio.gather(*(committer.commit(b"{}\n") for _ in range(300)))
        await committer.close()

    run(main())
    files = spool.closed_files(tmp_path)
    assert sum(len(p.read_bytes().splitlines()) for p in files) == 300
    assert {p.name.split("-")[-2] for p in files} <= {"0", "1", "2"}


def test_an_idle_file_closes_when_it_is_old_enough(tmp_path):
    async def main():
        committer = GroupCommitter([spool.SpoolWriter(tmp_path, 1 << 20, 0.2)])
        committer.start()
        await committer.commit(b"{}\n")
        for _ in range(100):  # bounded: 5 s at most
            if spool.closed_files(tmp_path):
                break
            await asyncio.sleep(0.05)
        closed = spool.closed_files(tmp_path)
        await committer.close()
        return closed

    assert len(run(main())) == 1


def test_a_write_that_fails_is_answered_503_and_counted(tmp_path):
    async def main():
        settings = ReceiverSettings(spool_dir=tmp_path, token="t0k")
        committer = GroupCommitter([FailingWriter(tmp_path, 1 << 20, 60)])
        committer.start()
        app = build_app(settings, committer)
        server = TestServer(app, host="127.0.0.1", port=0)
        async with TestClient(server) as client:
            resp = await client.post(
                "/", data=b'{"events":[]}', headers={"Authorization": "Bearer t0k"}
            )
            status, retry_after = resp.status, resp.headers.get("Retry-After")
            stats = await (
                await client.get("/status", headers={"Authorization": "Bearer t0k"})
            ).json()
        await committer.close()
        return status, retry_after, stats

    status, retry_after, stats = run(main())
    assert (status, retry_after) == (503, "5")
    assert stats["bodies"] == 0 and stats["refused"] == {"write_failed": 1}


def test_settings_never_show_the_token():
    s = ReceiverSettings(spool_dir="x", token="very-secret-value")
    assert "very-secret-value" not in repr(s) and "very-secret-value" not in str(s)


@pytest.mark.parametrize("path", ["/", "/currents"])
def test_get_on_the_post_routes_is_not_allowed(tmp_path, path):
    async def main():
        committer = GroupCommitter([spool.SpoolWriter(tmp_path, 1 << 20, 60)])
        committer.start()
        app = build_app(ReceiverSettings(spool_dir=tmp_path, token="t"), committer)
        async with TestClient(TestServer(app)) as client:
            status = (await client.get(path)).status
        await committer.close()
        return status

    assert run(main()) == 405


def test_the_receiver_never_imports_duckdb():
    import subprocess
    import sys

    code = (
        "import sys, braze_currents.receiver.cli, braze_currents.receiver.server; "
        "sys.exit('duckdb' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
