"""Fixtures: a throwaway warehouse with a fake dbt manifest, an in-process Braze emulator, and
a runner that calls the exporter's ``main`` the way the command line does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from braze_currents.devtools.emulator import Emulator, start_emulator
from braze_currents.devtools.sandbox import Sandbox
from braze_currents.exporter.cli import main
from braze_currents.exporter.report import BUCKETS

# Short waits so failure tests stay fast; every one is an ordinary flag.
FAST = [
    "--backoff-base", "0.005",
    "--backoff-max", "0.02",
    "--max-wait", "2",
    "--progress", "log",
    "--concurrency", "4",
]  # fmt: skip


@dataclass
class Run:
    code: int
    report: dict
    out: str
    err: str


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path / "wh")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with start_emulator(api_key="test-key-Zx81-secret") as emulator:
        yield emulator


@pytest.fixture
def run(box: Sandbox, emu: Emulator, tmp_path: Path, monkeypatch, capsys):
    """``run("--model", "m", ...)``: the exporter against ``emu`` and ``box``; a Run back."""
    counter = {"n": 0}

    def _run(*args: str, env: dict[str, str] | None = None, fast: bool = True) -> Run:
        counter["n"] += 1
        report = tmp_path / f"report-{counter['n']}.json"
        for name, value in {**box.env(), **emu.env(), **(env or {})}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("CI", raising=False)
        argv = [*args, "--report", str(report), *(FAST if fast else [])]
        code = main(argv)
        out, err = capsys.readouterr()
        data = json.loads(report.read_text()) if report.exists() else {}
        if data:  # every row of the model is in exactly one bucket, whatever happened
            assert sum(data[b] for b in BUCKETS) == data["rows"], data
            assert data["rejects_count"] == len(data["rejects"])
        return Run(code, data, out, err)

    return _run
