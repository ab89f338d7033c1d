"""Exporter throughput against the emulator, next to a bare loop posting the same requests.

    python -m braze_currents.devtools.exporter_bench [--rows N] [--concurrency C] [--latency S ...]

For each latency the emulator runs in a child process (its own interpreter, so it does not
share the exporter's GIL) with rate limits out of the way. Then:

- ``exporter``: ``export_to_braze`` as a user runs it (manifest, DuckDB stream, validation of
  every row before the first request, batching, sending, ledger commits, report);
- ``exporter_skip_invalid``: the same with ``--skip-on-invalid-records`` (rows are validated
  while earlier batches are in flight);
- ``bare``: a thread pool of the same size posting the request bodies the exporter built
  (taken from a ``--dry-run``), each thread over its own keep-alive ``http.client``
  connection (the leanest HTTP there is in Python; the exporter posts through urllib3, see
  ``client.BrazeClient``): the floor.

Each runner's CPU seconds (this process's) are also given per 1,000 requests: what sending
costs the client, beside the throughput.

``run_bench`` returns the numbers as a dict, ``run_for_report`` adds the printed table (what
``make bench`` calls); ``main`` prints the table.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import resource
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from braze_currents.devtools.emulator import RemoteEmulator, start_emulator_process
from braze_currents.devtools.sandbox import Sandbox, events_sql
from braze_currents.exporter.cli import main as export_main

MODEL = "bench_events"
HIGH_LIMIT = "100000000"  # rate limits out of the way: the bench measures the client
ARGS = ["--model", MODEL, "--mode", "user_track", "--track-record-type", "custom_events"]


def _env(box: Sandbox, emulator: RemoteEmulator) -> dict[str, str]:
    return {**box.env(), **emulator.env(), "CI": "1"}


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run_exporter(argv: list[str]) -> tuple[int, float, float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cpu, started = _cpu(), time.perf_counter()
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = export_main([*argv, "--report", str(report)])
        seconds = time.perf_counter() - started
        if code != 0:
            raise RuntimeError(f"export_to_braze exited {code}: {err.getvalue()[-2000:]}")
        return code, seconds, _cpu() - cpu, json.loads(report.read_text())


def _bare_loop(url: str, key: str, bodies: list[bytes], concurrency: int) -> tuple[float, float]:
    """The floor: a pool of ``concurrency`` threads, each posting bodies over its own
    keep-alive ``http.client`` connection (the standard library's, the leanest there is in
    Python), reading each answer and checking only its status."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/") + "/users/track"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    local = threading.local()

    def post(body: bytes) -> int:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        conn.request("POST", path, body, headers)
        answer = conn.getresponse()
        answer.read()
        return answer.status

    cpu, started = _cpu(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        statuses = list(pool.map(post, bodies))
    seconds = time.perf_counter() - started
    bad = [s for s in statuses if s != 201]
    if bad:
        raise RuntimeError(f"bare loop: {len(bad)} requests failed ({bad[:3]})")
    return seconds, _cpu() - cpu


def _line(
    name: str, rows: int, requests_made: int, seconds: float, cpu: float, report: dict | None
) -> dict[str, object]:
    line: dict[str, object] = {
        "runner": name,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "rows_per_s": round(rows / seconds, 1),
        "requests_per_s": round(requests_made / seconds, 1),
        # the client's CPU (this process: reading, validating, sending) per 1,000 requests
        "cpu_seconds_per_1k_requests": round(cpu * 1000 / max(1, requests_made), 3),
    }
    if report is not None:  # the exporter's time before its first request, after its last answer
        line["start_seconds"] = report.get("seconds_before_first_request")
        line["finish_seconds"] = report.get("seconds_after_last_answer")
    return line


def run_bench(
    rows: int = 100_000,
    concurrency: int = 16,
    latencies: Sequence[float] = (0.0, 0.05),
    workdir: Path | None = None,
    repeats: int = 3,
) -> dict[str, object]:
    """Exporter vs bare loop at each latency. Returns
    ``{"rows", "concurrency", "requests", "batch_size", "results": [{"latency_ms", "exporter":
    {...}, "exporter_skip_invalid": {...}, "bare": {...}, "exporter_vs_bare",
    "skip_invalid_vs_bare"}]}`` where each runner holds ``seconds``, ``rows_per_s`` and
    ``requests_per_s`` and ``cpu_seconds`` (of this process; the emulator's is not counted):
    the best of ``repeats`` interleaved runs (on a shared machine, other
    load only ever slows a run down)."""
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="braze-bench-")
        workdir = Path(own_tmp.name)
    try:
        box = Sandbox(Path(workdir) / "warehouse")
        box.add_model(MODEL, events_sql(rows))
        common = [
            *ARGS,
            "--concurrency", str(concurrency),
            "--track-rate-limit", HIGH_LIMIT,
            "--progress", "off",
        ]  # fmt: skip
        results = []
        bodies: list[bytes] = []
        for latency in latencies:
            emulator_args = ["--track-rate-limit", HIGH_LIMIT]
            with start_emulator_process(latency=latency, extra_args=emulator_args) as emulator:
                env = _env(box, emulator)
                with _environment(env):
                    if not bodies:  # the bare loop posts exactly what the exporter builds
                        dry = Path(workdir) / "requests.ndjson"
                        _run_exporter([*common, "--dry-run", "--dry-run-output", str(dry)])
                        bodies = [
                            json.dumps(json.loads(line)["body"], separators=(",", ":")).encode()
                            for line in dry.read_text().splitlines()
                        ]
                    line: dict[str, object] = {"latency_ms": round(latency * 1000)}
                    best: dict[str, tuple[float, int, float, dict | None]] = {}
                    for _ in range(repeats):  # interleaved, best of each: noise is one-sided
                        for name, extra in (
                            ("exporter", []),
                            ("exporter_skip_invalid", ["--skip-on-invalid-records"]),
                        ):
                            box.execute("DROP SCHEMA IF EXISTS braze_export CASCADE")
                            emulator.reset()
                            code, seconds, cpu, report = _run_exporter([*common, *extra])
                            stored = emulator.stats()["events"]
                            if code != 0 or stored != rows:
                                raise RuntimeError(f"{name}: exit {code}, {stored}/{rows} stored")
                            if name not in best or seconds < best[name][0]:
                                best[name] = (seconds, int(report["requests"]), cpu, report)
                        emulator.reset()
                        seconds, cpu = _bare_loop(
                            emulator.url, emulator.api_key, bodies, concurrency
                        )
                        if emulator.stats()["events"] != rows:
                            raise RuntimeError("bare loop: not every row stored")
                        if "bare" not in best or seconds < best["bare"][0]:
                            best["bare"] = (seconds, len(bodies), cpu, None)
                    for name, (seconds, made, cpu, report) in best.items():
                        line[name] = _line(name, rows, made, seconds, cpu, report)
                    bare = line["bare"]["seconds"]  # type: ignore[index]
                    line["exporter_vs_bare"] = round(bare / line["exporter"]["seconds"], 3)  # type: ignore[index]
                    line["skip_invalid_vs_bare"] = round(
                        bare / line["exporter_skip_invalid"]["seconds"],  # type: ignore[index]
                        3,
                    )
                    results.append(line)
        return {
            "rows": rows,
            "concurrency": concurrency,
            "requests": len(bodies),
            "batch_size": 75,
            "results": results,
        }
    finally:
        if own_tmp is not None:
            own_tmp.cleanup()


def format_table(bench: dict[str, object]) -> str:
    out = [
        f"Export: {bench['rows']} custom events, {bench['requests']} requests of up to "
        f"{bench['batch_size']}, concurrency {bench['concurrency']}",
        f"{'latency':>8} {'runner':<20} {'seconds':>8} {'rows/s':>10} {'requests/s':>11} "
        f"{'vs bare':>8} {'cpu s':>7} {'cpu s/1k req':>12} {'start s':>8} {'finish s':>9}",
    ]
    for line in bench["results"]:  # type: ignore[attr-defined]
        bare = line["bare"]["seconds"]
        for name in ("exporter", "exporter_skip_invalid", "bare"):
            r = line[name]
            edges = "".join(
                f" {r[k]:>{w}.2f}" if r.get(k) is not None else f" {'':>{w}}"
                for k, w in (("start_seconds", 8), ("finish_seconds", 9))
            )
            out.append(
                f"{line['latency_ms']:>6}ms {name:<20} {r['seconds']:>8.2f} "
                f"{r['rows_per_s']:>10.0f} {r['requests_per_s']:>11.1f} "
                f"{bare / r['seconds']:>8.0%} {r['cpu_seconds']:>7.2f} "
                f"{r['cpu_seconds_per_1k_requests']:>12.3f}{edges}".rstrip()
            )
    return "\n".join(out)


def run_for_report(
    rows: int = 50_000,
    concurrency: int = 16,
    latencies: Sequence[float] = (0.0, 0.05),
    repeats: int = 3,
) -> dict[str, object]:
    """What ``make bench`` records: ``run_bench``'s numbers plus ``table``, the printed table
    as a list of lines."""
    bench = run_bench(rows, concurrency, latencies, repeats=repeats)
    return {**bench, "table": ["   " + line for line in format_table(bench).splitlines()]}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m braze_currents.devtools.exporter_bench")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--latency", type=float, action="append", help="seconds; repeatable")
    p.add_argument("--repeats", type=int, default=3, help="best of this many runs each")
    p.add_argument("--json", metavar="PATH", help="also write the numbers here")
    a = p.parse_args(argv)
    bench = run_bench(
        a.rows, a.concurrency, tuple(a.latency or (0.0, 0.05)), repeats=max(1, a.repeats)
    )
    print(format_table(bench))
    if a.json:
        Path(a.json).write_text(json.dumps(bench, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
