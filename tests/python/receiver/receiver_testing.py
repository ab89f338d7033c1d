"""Helpers of the receiver tests: a receiver process on 127.0.0.1 (port 0), a poster, a load."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import duckdb

from braze_currents.devtools.poster import post_all

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "test-token-7f3a"  # a test value, not a secret


class Receiver:
    """``scripts/receive_currents.py`` in a subprocess; its JSON log lines are collected."""

    def __init__(self, spool: Path, *args: str, token: str | None = TOKEN, env: dict | None = None):
        self.spool = spool
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.env.pop("CURRENTS_RECEIVER_TOKEN", None)
        if token is not None:
            self.env["CURRENTS_RECEIVER_TOKEN"] = token
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.port: int | None = None
        self.scheme = "http"

    def start(self, timeout: float = 20.0) -> Receiver:
        cmd = [sys.executable, str(ROOT / "scripts" / "receive_currents.py"), "--spool",
               str(self.spool), "--host", "127.0.0.1", "--port", "0", *self.args]  # fmt: skip
        self.lines = []
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        ready = threading.Event()

        def read() -> None:
            for line in self.proc.stderr:
                self.lines.append(line)
                if '"listening"' in line:
                    record = json.loads(line)
                    self.port, self.scheme = record["port"], record["scheme"]
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(timeout) or self.port is None:
            self.kill()
            raise AssertionError("receiver did not start:\n" + "".join(self.lines))
        return self

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/"

    def records(self) -> list[dict]:
        out = []
        for line in list(self.lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"message": line})
        return out

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout) if self.proc else 0

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def post(url: str, bodies: list[bytes], **kw):
    kw.setdefault("token", TOKEN)
    return asyncio.run(post_all(url, bodies, **kw))


def load_spool(spool: Path, database: Path) -> int:
    from braze_currents.load_cli import main as load_main

    return load_main(["--spool", str(spool), "--database", str(database), "--quiet"])


def landed(database: Path) -> dict[str, int]:
    """Rows of raw.currents_batches per body tag (the prefix of its events' ids)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(
            "select split_part(json_extract_string(events, '$[0].id'), '-', 1), count(*) "
            "from raw.currents_batches group by 1"
        ).fetchall()
    finally:
        con.close()
    return dict(rows)
