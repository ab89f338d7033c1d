"""A local Braze REST emulator for tests, the demo and the benchmark.

    with start_emulator(latency=0.05) as emu:
        ...  # BRAZE_REST_ENDPOINT=emu.url, BRAZE_API_KEY=emu.api_key
        emu.store.events  # what it accepted

``start_emulator`` runs the server on a background thread of this process (tests read
``.store`` directly); ``start_emulator_process`` runs it in a child process (the benchmark, so
the emulator does not share this interpreter's GIL) and reads its numbers over HTTP.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import threading
from dataclasses import fields
from typing import Any

import requests

from braze_currents.devtools.emulator.server import (
    EmulatorConfig,
    EmulatorServer,
    Faults,
    Store,
    make_server,
)

__all__ = [
    "Emulator",
    "EmulatorConfig",
    "Faults",
    "RemoteEmulator",
    "Store",
    "start_emulator",
    "start_emulator_process",
]


class Emulator:
    """A running in-process emulator. ``config`` and ``config.faults`` may be changed live."""

    def __init__(self, server: EmulatorServer, tls: ssl.SSLContext | None = None) -> None:
        self._server = server
        if tls is not None:  # handshakes on accept (the serving thread): tests only
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        host, port = server.server_address[:2]
        self.url = f"{'https' if tls else 'http'}://{host}:{port}"

    @property
    def config(self) -> EmulatorConfig:
        return self._server.state.config  # type: ignore[attr-defined]

    @property
    def faults(self) -> Faults:
        return self.config.faults

    @property
    def store(self) -> Store:
        return self._server.state.store  # type: ignore[attr-defined]

    @property
    def api_key(self) -> str:
        return self.config.api_key

    def env(self) -> dict[str, str]:
        """The exporter's environment variables for this emulator."""
        return {"BRAZE_REST_ENDPOINT": self.url, "BRAZE_API_KEY": self.api_key}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _config(kwargs: dict[str, Any]) -> EmulatorConfig:
    names = {f.name for f in fields(EmulatorConfig)}
    unknown = set(kwargs) - names
    if unknown:
        raise TypeError(f"unknown emulator setting(s): {sorted(unknown)}")
    faults = kwargs.pop("faults", None)
    if isinstance(faults, dict):
        faults = Faults(**faults)
    return EmulatorConfig(**kwargs, faults=faults or Faults())


def start_emulator(
    host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None, **settings: Any
) -> Emulator:
    """Starts an emulator on a background thread; ``settings`` are ``EmulatorConfig`` fields
    (``faults`` may be a ``Faults`` or a dict of its fields). ``tls``: serve https with this
    server context."""
    return Emulator(make_server(_config(settings), host, port), tls)


class RemoteEmulator:
    """An emulator in a child process (``python -m braze_currents.devtools.emulator``)."""

    def __init__(self, process: subprocess.Popen, url: str, api_key: str) -> None:
        self._process = process
        self.url = url
        self.api_key = api_key

    def env(self) -> dict[str, str]:
        return {"BRAZE_REST_ENDPOINT": self.url, "BRAZE_API_KEY": self.api_key}

    def _call(self, method: str, path: str) -> dict:
        response = requests.request(method, self.url + path, timeout=30)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict:
        return self._call("GET", "/_emulator/stats")

    def reset(self) -> None:
        self._call("POST", "/_emulator/reset")

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> RemoteEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator_process(
    latency: float = 0.0, api_key: str = "emulator-key", extra_args: list[str] | None = None
) -> RemoteEmulator:
    """Starts ``python -m braze_currents.devtools.emulator`` on an ephemeral loopback port."""
    args = [
        sys.executable,
        "-m",
        "braze_currents.devtools.emulator",
        "--port",
        "0",
        "--latency",
        str(latency),
        "--announce-json",
        *(extra_args or []),
    ]
    process = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        env={**os.environ, "BRAZE_EMULATOR_API_KEY": api_key},
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        raise RuntimeError("the emulator process did not start")
    info = json.loads(line)
    return RemoteEmulator(process, info["url"], api_key)
