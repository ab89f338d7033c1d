"""Development tooling: the receiver's benchmark (``make bench`` calls ``run_for_report``).

Two servers, each in its own process, get the same bodies from the same load generator
(``poster``) in this process, one after the other:

- the receiver (``scripts/receive_currents.py``): token check, size limit, JSON check and
  event count, group commit (one fsync for all the bodies that arrived meanwhile);
- aiohttp's bare "write and fsync" handler (``python -m braze_currents.devtools.receiver_bench
  --bare``): read the body, append it to a file and fsync, in a thread, per request; no checks.

Both acknowledge a body only after its fsync. Reported: bodies/s, events/s, MB/s, p50/p99
latency, and for the receiver the bodies per fsync.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from braze_currents.devtools.poster import percentile, post_all

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "bench-token"  # noqa: S105 (a throwaway value for a server on 127.0.0.1)


def realistic_bodies(count: int, events: int = 100) -> list[bytes]:
    """``count`` distinct bodies of ``events`` generated Currents events (all event types)."""
    from braze_currents.devtools.generator import CurrentsGenerator, GeneratorSettings

    gen = CurrentsGenerator(GeneratorSettings(events=count * events, seed=3, batch_size=events))
    out = []
    for record in gen.records():
        if record.body and len(record.body["events"]) == events:
            out.append(json.dumps(record.body, separators=(",", ":")).encode())
        if len(out) == count:
            break
    return out


def start_server(cmd: list[str], env: dict) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    for line in proc.stderr:
        if '"listening"' in line:
            return proc, json.loads(line)["port"]
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError(f"server did not start: {' '.join(cmd)}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of process ``pid``, or of this one."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, bodies: list[bytes], total: int, concurrency: int, pid: int) -> dict:
    """Post ``total`` bodies (cycling through ``bodies``) and time every answer; the server's
    and the poster's CPU time per body tell what the machine's other load hides."""
    asyncio.run(post_all(url, bodies[: min(200, len(bodies))], token=TOKEN, concurrency=16))
    work = [bodies[i % len(bodies)] for i in range(total)]
    server_cpu, poster_cpu = cpu_seconds(pid), cpu_seconds()
    started = time.perf_counter()
    answers = asyncio.run(post_all(url, work, token=TOKEN, concurrency=concurrency, timeout=60))
    seconds = time.perf_counter() - started
    server_cpu, poster_cpu = cpu_seconds(pid) - server_cpu, cpu_seconds() - poster_cpu
    ok = [a for a in answers if a.acknowledged]
    latencies = [a.seconds for a in ok]
    events = sum(w.count(b'"event_type"') for w in work)
    return {
        "bodies": total,
        "acknowledged": len(ok),
        "seconds": round(seconds, 2),
        "bodies_per_s": round(len(ok) / seconds),
        "events_per_s": round(events / seconds),
        "mb_per_s": round(sum(map(len, work)) / seconds / 1e6, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "server_cpu_ms_per_body": round(server_cpu / total * 1000, 3),
        "poster_cpu_ms_per_body": round(poster_cpu / total * 1000, 3),
        "load_average": round(os.getloadavg()[0], 1),
    }


def _receiver(tmp: Path, env: dict, bodies: list[bytes], total: int, concurrency: int) -> dict:
    spool_dir = Path(tmp) / "spool"
    cmd = [sys.executable, str(ROOT / "scripts" / "receive_currents.py"), "--spool",
           str(spool_dir), "--port", "0", "--stats-seconds", "3600"]  # fmt: skip
    proc, port = start_server(cmd, env)
    try:
        result = measure(f"http://127.0.0.1:{port}/", bodies, total, concurrency, proc.pid)
        status = requests.get(
            f"http://127.0.0.1:{port}/status",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        ).json()
        result["bodies_per_fsync"] = round(status["bodies"] / status["fsyncs"], 1)
    finally:
        stop_server(proc)
    shutil.rmtree(spool_dir, ignore_errors=True)
    return result


def _bare(tmp: Path, env: dict, bodies: list[bytes], total: int, concurrency: int) -> dict:
    target = Path(tmp) / "bare.ndjson"
    cmd = [sys.executable, "-m", "braze_currents.devtools.receiver_bench", "--bare", str(target)]
    proc, port = start_server(cmd, env)
    try:
        return measure(f"http://127.0.0.1:{port}/", bodies, total, concurrency, proc.pid)
    finally:
        stop_server(proc)
        target.unlink(missing_ok=True)


def run(total: int = 4000, concurrency: int = 64, distinct: int = 300, rounds: int = 3) -> dict:
    """``rounds`` runs of each server, taking turns (the machine's other load hits both
    alike); each server's median round by bodies/s is reported, with every round's figure."""
    bodies = realistic_bodies(distinct)
    env = {**os.environ, "CURRENTS_RECEIVER_TOKEN": TOKEN}
    out: dict = {
        "events_per_body": 100,
        "body_bytes_avg": round(sum(map(len, bodies)) / len(bodies)),
        "concurrency": concurrency,
        "bodies_per_round": total,
    }
    runs: dict[str, list[dict]] = {"receiver": [], "bare": []}
    with tempfile.TemporaryDirectory(prefix="receiver-bench-", dir=ROOT / "bench") as tmp:
        for _ in range(rounds):
            runs["receiver"].append(_receiver(Path(tmp), env, bodies, total, concurrency))
            runs["bare"].append(_bare(Path(tmp), env, bodies, total, concurrency))
    for key, results in runs.items():
        ordered = sorted(results, key=lambda r: r["bodies_per_s"])
        out[key] = {**ordered[len(ordered) // 2], "rounds": [r["bodies_per_s"] for r in results]}
    out["ratio"] = round(out["receiver"]["bodies_per_s"] / out["bare"]["bodies_per_s"], 2)
    return out


def render(result: dict) -> str:
    lines = [
        f"Receiver: bodies of {result['events_per_body']} events "
        f"(~{result['body_bytes_avg'] / 1000:.0f} kB), {result['concurrency']} connections, "
        "every acknowledgement fsync'd; the poster runs in the same run, on the same machine",
        f"  {'server':<27} {'bodies/s':>8} {'events/s':>9} {'MB/s':>5} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'CPU ms/body server, poster':>27} {'load':>5}",
    ]
    for key, name in (
        ("receiver", "receiver (group commit)"),
        ("bare", "bare write+fsync handler"),
    ):
        r = result[key]
        lines.append(
            f"  {name:<27} {r['bodies_per_s']:>8,} {r['events_per_s']:>9,} {r['mb_per_s']:>5.0f} "
            f"{r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} "
            f"{r['server_cpu_ms_per_body']:>19.2f}, {r['poster_cpu_ms_per_body']:>5.2f} "
            f"{r['load_average']:>5.1f}"
        )
    lines.append(
        f"  receiver / bare: {result['ratio']:.2f}x bodies/s; "
        f"{result['receiver']['bodies_per_fsync']} bodies per fsync. Median of "
        f"{len(result['receiver']['rounds'])} rounds of {result['bodies_per_round']:,} bodies "
        f"(bodies/s of each round: receiver {result['receiver']['rounds']}, "
        f"bare {result['bare']['rounds']}); load: the 1-minute load average"
    )
    return "\n".join(lines)


def run_for_report() -> dict:
    result = run()
    result["table"] = render(result)
    print(result["table"], flush=True)
    return result


# ---- the bare handler ------------------------------------------------------------------------
def _bare_server(path: Path) -> None:
    """aiohttp, a handler that appends the body to a file and fsyncs it; nothing else."""
    from aiohttp import web

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def write_and_fsync(data: bytes) -> None:
        os.write(fd, data + b"\n")
        os.fsync(fd)

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        await asyncio.get_running_loop().run_in_executor(None, write_and_fsync, body)
        return web.Response(text="ok")

    async def main() -> None:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = runner.addresses[0][1]
        print(json.dumps({"message": "listening", "port": port}), file=sys.stderr, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bare", type=Path, metavar="FILE", help="run the bare handler")
    args = parser.parse_args()
    if args.bare:
        _bare_server(args.bare)
    else:
        print(run_for_report())
