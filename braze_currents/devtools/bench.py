"""``make bench``: how long a day of Currents takes to land and build, how far it scales, and
how fast it goes to Braze, each next to the least work any design must do.

Every step runs as its own process, timed, with its peak memory (max RSS) read from the
kernel when it exits. Results are printed as a table and written as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from braze_currents.config import PROJECT_ROOT
from braze_currents.warehouse import SETTINGS

BIN = Path(sys.executable).parent
RESULTS = PROJECT_ROOT / "bench" / "results"


@dataclass
class Measure:
    seconds: float
    peak_mb: float


@dataclass
class PipelineResult:
    events: int
    input_mb: float
    floor: Measure
    load: Measure
    build: Measure
    rows_floor: int = 0
    rows_stream: int = 0
    floor_runs: list = field(default_factory=list)  # seconds of every floor run (median kept)
    build_profile: dict = field(default_factory=dict)  # where the build's time went

    @property
    def ratio(self) -> float:
        return (self.load.seconds + self.build.seconds) / self.floor.seconds


@dataclass
class Report:
    machine: dict = field(default_factory=dict)
    pipeline: list = field(default_factory=list)
    incremental: list = field(default_factory=list)
    export: dict = field(default_factory=dict)
    receiver: dict = field(default_factory=dict)
    storage: list = field(default_factory=list)
    single_file: list = field(default_factory=list)
    spark: dict = field(default_factory=dict)


def run_measured(cmd: list[str], env: dict | None = None, quiet: bool = True) -> Measure:
    """Run ``cmd``; its wall seconds and peak resident memory (MB) from ``wait4``."""
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.STDOUT if quiet else None,
        text=True,
    )
    output = proc.stdout.read() if quiet else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {code}:\n{output[-4000:]}")
    return Measure(seconds=seconds, peak_mb=usage.ru_maxrss / 1024)


def duckdb_settings_sql() -> str:
    """The DuckDB settings the project's own connections use, for the floor too (with dbt's
    preserve_insertion_order off: with it on, DuckDB alone ran out of memory unnesting the
    30 M events' gzipped NDJSON within 3.5 GB)."""
    return "; ".join(
        [f"set {name} = '{os.environ.get(env, default)}'"
         for name, (env, default) in SETTINGS.items()]
        + ["set preserve_insertion_order = false"]
    )  # fmt: skip


FLOOR_SCRIPT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute(sys.argv[2])
files = sys.argv[3:]
con.execute(
    "create table events as "
    "select unnest(json_extract(line, '$.events[*]')) as event "
    "from read_csv(?, columns = {'line': 'VARCHAR'}, delim = '\\x01', quote = '', escape = '', "
    "header = false, auto_detect = false, max_line_size = 67108864)",
    [files],
)
print(con.execute("select count(*) from events").fetchone()[0])
"""


def floor(inputs: list[Path], workdir: Path, runs: int = 3) -> tuple[Measure, int, list[float]]:
    """DuckDB alone: read the same NDJSON as text and unnest it into one event table, in one
    query, with the project's DuckDB settings. Run ``runs`` times (it is short, and the
    headline divides by it); the run of median seconds is kept. When DuckDB alone runs out of
    memory (the 30 M events' gzipped NDJSON within 3.5 GB), the floor is not a number (nan)
    and the run goes on: the 30 M target is set against the 10 M run, not the floor."""
    import duckdb

    db = workdir / "floor.duckdb"
    measures = []
    for _ in range(runs):
        _remove_db(db)
        cmd = [sys.executable, "-c", FLOOR_SCRIPT, str(db), duckdb_settings_sql(),
               *map(str, inputs)]  # fmt: skip
        try:
            measures.append(run_measured(cmd))
        except RuntimeError as exc:
            if "Out of Memory" not in str(exc):
                raise
            print("   floor: DuckDB alone ran out of memory; no floor for this size", flush=True)
            _remove_db(db)
            return Measure(seconds=float("nan"), peak_mb=float("nan")), 0, []
        with duckdb.connect(str(db), read_only=True) as con:
            rows = con.execute("select count(*) from events").fetchone()[0]
        _remove_db(db)
    median = sorted(measures, key=lambda m: m.seconds)[len(measures) // 2]
    return median, rows, [round(m.seconds, 3) for m in measures]


def warm(paths: list[Path]) -> None:
    """Read the inputs once, so that every timed step finds them in the page cache: the first
    reader of files just generated would otherwise pay for the disk alone."""
    for path in paths:
        with open(path, "rb") as fh:
            while fh.read(16 << 20):
                pass


def build_profile(target: Path, seconds: float) -> dict:
    """Where a ``dbt build`` spent its time, from the run_results.json and manifest.json it
    wrote: dbt's own start and finish (the process's seconds less the nodes' elapsed time) and
    the node seconds by kind (summed over dbt's threads)."""
    results = json.loads((target / "run_results.json").read_text())
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    by_kind: Counter[str] = Counter()
    for r in results["results"]:
        by_kind[_node_kind(nodes.get(r["unique_id"], {}), r["unique_id"])] += r["execution_time"]
    slowest = sorted(results["results"], key=lambda r: -r["execution_time"])[:5]
    return {
        "seconds": round(seconds, 3),
        "dbt_fixed_seconds": round(seconds - results["elapsed_time"], 3),
        "nodes": len(results["results"]),
        "node_seconds": {k: round(v, 3) for k, v in sorted(by_kind.items())},
        "tested_model_seconds": round(tested_model_seconds(results, nodes), 3),
        "slowest": [
            [r["unique_id"].split(".")[-1], round(r["execution_time"], 3)] for r in slowest
        ],
    }


def tested_model_seconds(results: dict, nodes: dict) -> float:
    """Seconds the build spent on the models its data tests test: every model a data test of
    this build depends on, counted once."""
    ran = {r["unique_id"]: r["execution_time"] for r in results["results"]}
    tested = {
        dep
        for uid in ran
        if uid.startswith("test.")
        for dep in nodes.get(uid, {}).get("depends_on", {}).get("nodes", [])
        if dep.startswith("model.")
    }
    return sum(ran.get(uid, 0.0) for uid in tested)


PROFILE_KINDS = ("event stream", "staging", "typed views", "marts", "data tests", "unit tests")


def _node_kind(node: dict, unique_id: str) -> str:
    kind = unique_id.split(".", 1)[0]
    if kind == "unit_test":
        return "unit tests"
    if kind != "model":
        return "data tests"
    if node.get("name") == "stg_braze_currents__events":
        return "event stream"
    if "event_types" in node.get("fqn", []):
        return "typed views"
    return "staging" if "staging" in node.get("fqn", []) else "marts"


def _remove_db(db: Path) -> None:
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(Path(str(db) + ".dbt-state"), ignore_errors=True)  # the scheduled build's


def generate(events: int, out: Path, seed: int, start: str, files: int = 1) -> list[Path]:
    """Clean generated events (no faults, no duplicates), cached across runs."""
    target = out / f"events-{events}-seed{seed}-{start}"
    marker = target / "done.json"
    if not marker.exists():
        shutil.rmtree(target, ignore_errors=True)
        print(f"   generating {events:,} events into {target} (cached for later runs)", flush=True)
        args = ["--events", str(events), "--seed", str(seed), "--start", start,
                "--duplicate-rate", "0", "--quiet"]  # fmt: skip
        if files > 1:
            args += ["-o", str(target), "--files", str(files), "--format", "ndjson"]
        else:
            args += ["-o", str(target / "events.ndjson")]
        subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "scripts" / "generate_currents.py"), *args],
            check=True,
            cwd=PROJECT_ROOT,
        )
        marker.write_text(json.dumps({"events": events}))
    return sorted(target.glob("*.ndjson"))


def dbt(args: list[str], env: dict) -> Measure:
    return run_measured([str(BIN / "dbt"), *args], env=env)


def pipeline(
    events: int,
    workdir: Path,
    files: int,
    floor_runs: int = 3,
    keep: bool = True,
    inputs: list[Path] | None = None,
) -> PipelineResult:
    """Floor, load and full build of ``events`` (generated, or the given ``inputs``); with
    ``keep``, the warehouse is kept for the incremental runs (``pipeline-<events>.duckdb``)."""
    if inputs is None:
        inputs = generate(events, workdir / "inputs", seed=1, start="2026-10-01", files=files)
    gz = any(p.suffix == ".gz" for p in inputs)
    size_mb = sum(p.stat().st_size for p in inputs) / 1e6
    warm(inputs)
    print(
        f"   floor: DuckDB reads {size_mb:,.0f} MB of NDJSON{' (gzipped)' if gz else ''} and "
        f"unnests it ({floor_runs} run(s))",
        flush=True,
    )
    floor_m, floor_rows, floor_runs = floor(inputs, workdir, floor_runs)
    db = workdir / "warehouse.duckdb"
    _remove_db(db)
    env = dbt_env(workdir)
    print("   project: load", flush=True)
    load_m = run_measured(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "load_currents.py"), "--quiet",
         *map(str, inputs)],
        env=env,
    )  # fmt: skip
    print("   project: dbt build", flush=True)
    build_m = dbt(["build"], env)
    profile = build_profile(Path(env["DBT_TARGET_PATH"]), build_m.seconds)
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    stream = con.execute("select count(*) from staging.stg_braze_currents__events").fetchone()[0]
    con.close()
    if keep:
        shutil.copy(db, workdir / f"pipeline-{events}.duckdb")
    else:
        _remove_db(db)
    return PipelineResult(
        events, size_mb, floor_m, load_m, build_m, floor_rows, stream, floor_runs, profile
    )


def copies(inputs: list[Path], n: int, target: Path) -> list[Path]:
    """``n`` copies of the lines of ``inputs``, gzipped (level 1, to fit the disk), the event
    ids of copy k > 0 prefixed with ``k-`` (so ``n`` times the events, all distinct, over the
    same days: a workspace ``n`` times as busy). Generating 30 M events anew takes an hour on
    2 cores; this takes minutes. Cached (``done.json``)."""
    import gzip

    marker = target / "done.json"
    if not marker.exists():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        print(f"   writing {n} copies of {len(inputs)} file(s) into {target} (cached)", flush=True)
        for k in range(n):
            for path in inputs:
                out = target / f"copy{k}-{path.name}.gz"
                with open(path, "rb") as fh, gzip.open(out, "wb", compresslevel=1) as gz:
                    while lines := fh.readlines(16 << 20):
                        block = b"".join(lines)
                        gz.write(block.replace(b'"id":"', f'"id":"{k}-'.encode()) if k else block)
        marker.write_text(json.dumps({"copies": n, "inputs": [p.name for p in inputs]}))
    return sorted(target.glob("*.ndjson.gz"))


def concatenate(inputs: list[Path], target: Path) -> Path:
    """The lines of ``inputs`` as one file, in order (cached: ``done.json`` beside it)."""
    marker = target.parent / "done.json"
    if not marker.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            for path in inputs:
                with open(path, "rb") as fh:
                    shutil.copyfileobj(fh, out, 16 << 20)
        marker.write_text(json.dumps({"inputs": [p.name for p in inputs]}))
    return target


def single_file(events: int, workdir: Path, files: int = 10) -> dict:
    """The loader on one large NDJSON file against the same lines in ``files`` files (the
    pipeline's inputs), each into an empty warehouse, one after the other."""
    inputs = generate(events, workdir / "inputs", seed=1, start="2026-10-01", files=files)
    one = concatenate(inputs, workdir / "inputs" / f"single-{events}-seed1" / "events.ndjson")
    out: dict = {"events": events, "file_count": files, "mb": one.stat().st_size / 1e6}
    for name, paths in (("files", inputs), ("single", [one])):
        warm(paths)
        db = workdir / "single-file.duckdb"
        _remove_db(db)
        print(f"   load {name}", flush=True)
        m = run_measured(
            [sys.executable, str(PROJECT_ROOT / "scripts" / "load_currents.py"), "--quiet",
             "--database", str(db), *map(str, paths)]
        )  # fmt: skip
        import duckdb

        with duckdb.connect(str(db), read_only=True) as con:
            landed = con.execute("select sum(event_count) from raw.currents_batches").fetchone()
        _remove_db(db)
        out[name] = {"seconds": m.seconds, "peak_mb": m.peak_mb, "events": int(landed[0] or 0)}
    return out


def generate_avro(events: int, out: Path, seed: int, start: str) -> Path:
    """The same clean events as ``generate`` (same flags and seed), in the flat envelope, as a
    storage tree of Avro files (cached across runs)."""
    target = out / f"avro-{events}-seed{seed}-{start}"
    marker = target / "done.json"
    if not marker.exists():
        shutil.rmtree(target, ignore_errors=True)
        print(f"   generating {events:,} events as Avro into {target} (cached)", flush=True)
        args = ["--events", str(events), "--seed", str(seed), "--start", start,
                "--duplicate-rate", "0", "--quiet", "--avro",
                "-o", str(target / "tree")]  # fmt: skip
        subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "scripts" / "generate_currents.py"), *args],
            check=True,
            cwd=PROJECT_ROOT,
        )
        marker.write_text(json.dumps({"events": events}))
    return target / "tree"


def storage_load(events: int, workdir: Path) -> dict:
    """The loader on the same events as NDJSON (one file of Custom HTTP batches) and as a
    storage tree of Avro files (one file per event type and hour), each into an empty
    warehouse."""
    ndjson = generate(events, workdir / "inputs", seed=1, start="2026-10-01")
    tree = generate_avro(events, workdir / "inputs", seed=1, start="2026-10-01")
    avro_files = sorted(tree.rglob("*.avro"))
    warm([*ndjson, *avro_files])
    out = {"events": events, "avro_files": len(avro_files)}
    for name, inputs in (("ndjson", ndjson), ("avro", [tree])):
        db = workdir / f"storage-{name}.duckdb"
        _remove_db(db)
        print(f"   load {name}", flush=True)
        m = run_measured(
            [sys.executable, str(PROJECT_ROOT / "scripts" / "load_currents.py"), "--quiet",
             "--database", str(db), *map(str, inputs)]
        )  # fmt: skip
        import duckdb

        with duckdb.connect(str(db), read_only=True) as con:
            landed = con.execute("select sum(event_count) from raw.currents_batches").fetchone()
        _remove_db(db)
        size = sum(p.stat().st_size for p in (avro_files if name == "avro" else inputs))
        out[name] = {"seconds": m.seconds, "peak_mb": m.peak_mb, "mb": size / 1e6,
                     "events": int(landed[0] or 0)}  # fmt: skip
    return out


def dbt_env(workdir: Path) -> dict:
    """One warehouse path and target for every dbt run of the benchmark: the profile reads the
    path, and a changed profile would make dbt parse the whole project again each time."""
    return {
        "CURRENTS_DUCKDB_PATH": str(workdir / "warehouse.duckdb"),
        "DBT_TARGET_PATH": str(workdir / "target"),
    }


# The scheduled build the README recommends: scripts/build_warehouse.py (no unit tests; only what
# new loads reach once it has the state of a previous build).
SCHEDULED_BUILD = [sys.executable, str(PROJECT_ROOT / "scripts" / "build_warehouse.py")]


def incremental(events: int, workdir: Path, full_seconds: float | None = None) -> dict:
    """A warehouse of ``events`` plus one more day of 1 %: the incremental ``dbt build`` (and
    the scheduled build the README recommends, without unit tests) against the full build.
    ``full_seconds``, when given, is the full build already measured (the pipeline's build of
    the same events); otherwise ``dbt build --full-refresh`` is timed after the incrementals."""
    base = workdir / f"pipeline-{events}.duckdb"
    if not base.exists():
        raise RuntimeError(f"run the pipeline benchmark at {events} events first")
    env = dbt_env(workdir)
    db = Path(env["CURRENTS_DUCKDB_PATH"])
    loaded = workdir / "incremental-loaded.duckdb"
    _remove_db(db)
    shutil.copy(base, db)
    extra = generate(events // 100, workdir / "inputs", seed=2, start="2026-11-01")
    load_m = run_measured(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "load_currents.py"), "--quiet",
         *map(str, extra)],
        env=env,
    )  # fmt: skip
    shutil.copy(db, loaded)
    target = Path(env["DBT_TARGET_PATH"])
    inc_m = dbt(["build"], env)
    inc_profile = build_profile(target, inc_m.seconds)
    shutil.copy(loaded, db)  # the same new day again, for the scheduled variant
    scheduled_m = run_measured(SCHEDULED_BUILD, env=env)
    scheduled_profile = build_profile(target, scheduled_m.seconds)
    loaded.unlink()
    # A day that brings no events: the scheduled build again, nothing new loaded; next to dbt's
    # own start-up and finish (a build that selects nothing).
    empty_m = run_measured(SCHEDULED_BUILD, env=env)
    startup_m = dbt(["build", "--select", "tag:bench_selects_nothing"], env)
    if full_seconds is None:
        full_seconds = dbt(["build", "--full-refresh"], env).seconds
    _remove_db(db)
    return {
        "base_events": events,
        "added_events": events // 100,
        "load_seconds": load_m.seconds,
        "incremental_build_seconds": inc_m.seconds,
        "scheduled_build_seconds": scheduled_m.seconds,
        "full_build_seconds": full_seconds,
        "incremental_share": inc_m.seconds / full_seconds,
        "scheduled_share": scheduled_m.seconds / full_seconds,
        "incremental_profile": inc_profile,
        "scheduled_profile": scheduled_profile,
        "empty_day_seconds": empty_m.seconds,
        "dbt_startup_seconds": startup_m.seconds,
    }


@dataclass
class Target:
    name: str
    goal: str
    measured: str
    met: bool


GB = 4096  # MB: "under 4 GB peak"


def targets(report: dict) -> list[Target]:
    """Issue 18's targets, each from the numbers of the same run (a target whose numbers did
    not run is left out)."""
    out: list[Target] = []
    pipes = {p["events"]: p for p in report.get("pipeline", [])}
    ten = pipes.get(10_000_000)
    if ten:
        floor_s = ten["floor"]["seconds"]
        total = ten["load"]["seconds"] + ten["build"]["seconds"]
        out.append(Target("10 M: load + full build", "<= 4x the floor",
                          f"{total / floor_s:.2f}x ({total:.1f} s / {floor_s:.1f} s)",
                          total <= 4 * floor_s))  # fmt: skip
        stream = ten.get("build_profile", {}).get("node_seconds", {}).get("event stream")
        if stream is not None:
            out.append(Target("10 M: event stream model", "<= 2x the floor",
                              f"{stream / floor_s:.2f}x ({stream:.1f} s)",
                              stream <= 2 * floor_s))  # fmt: skip
        peak = max(ten["load"]["peak_mb"], ten["build"]["peak_mb"])
        out.append(Target("10 M: peak memory", "< 4 GB", f"{peak:,.0f} MB", peak < GB))
        prof = ten.get("build_profile", {})
        tests = prof.get("node_seconds", {}).get("data tests")
        tested = prof.get("tested_model_seconds")
        if tests is not None and tested:
            out.append(Target("10 M: full-refresh data tests", "<= 0.5x the models they test",
                              f"{tests / tested:.2f}x ({tests:.1f} s / {tested:.1f} s)",
                              tests <= 0.5 * tested))  # fmt: skip
    for sf in report.get("single_file", []):
        one, many = sf["single"], sf["files"]
        ratio = one["seconds"] / many["seconds"]
        ok = ratio <= 1.2 and one["peak_mb"] < GB and one["events"] == many["events"]
        goal = f"<= 1.2x {sf['file_count']} files, < 4 GB"
        out.append(Target(f"one {sf['mb'] / 1000:.1f} GB file", goal,
                          f"{ratio:.2f}x ({one['seconds']:.1f} s / {many['seconds']:.1f} s), "
                          f"{one['peak_mb']:,.0f} MB", ok))  # fmt: skip
    thirty = pipes.get(30_000_000)
    if thirty and ten:
        t30 = thirty["load"]["seconds"] + thirty["build"]["seconds"]
        t10 = ten["load"]["seconds"] + ten["build"]["seconds"]
        peak = max(thirty["load"]["peak_mb"], thirty["build"]["peak_mb"])
        out.append(Target("30 M: load + full build", "<= 3.2x the 10 M run, < 4 GB",
                          f"{t30 / t10:.2f}x ({t30:.1f} s / {t10:.1f} s), {peak:,.0f} MB",
                          t30 <= 3.2 * t10 and peak < GB))  # fmt: skip
    for inc in report.get("incremental", []):
        if inc["base_events"] != 10_000_000:
            continue
        for label, key in (("dbt build", "incremental_share"), ("scheduled", "scheduled_share")):
            share = inc[key]
            out.append(Target(f"10 M + a day of 1 % ({label})", "<= 5 % of the full build",
                              f"{share:.1%}", share <= 0.05))  # fmt: skip
        if "empty_day_seconds" in inc:
            extra = inc["empty_day_seconds"] - inc["dbt_startup_seconds"]
            out.append(Target("10 M + a day of no events", "<= dbt's start-up + 3 s",
                              f"+{extra:.1f} s ({inc['empty_day_seconds']:.1f} s / "
                              f"{inc['dbt_startup_seconds']:.1f} s)", extra <= 3))  # fmt: skip
    for run in report.get("export", {}).get("results", []):
        if run.get("latency_ms") == 50 and "exporter_vs_bare" in run:
            share = run["exporter_vs_bare"]
            out.append(Target("export at 50 ms", ">= 90 % of the bare loop", f"{share:.0%}",
                              share >= 0.9))  # fmt: skip
    return out


def render_targets(found: list[Target]) -> list[str]:
    if not found:
        return []
    lines = ["", "Targets (issue 18; each against numbers of this run)"]
    width = max(len(t.name) for t in found)
    goal = max(len(t.goal) for t in found)
    for t in found:
        verdict = "met" if t.met else "NOT MET"
        lines.append(f"  {t.name:<{width}}  {t.goal:<{goal}}  {verdict:<7}  {t.measured}")
    return lines


def machine() -> dict:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import duckdb

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def render(report: Report) -> str:
    m = report.machine
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; "
        f"Python {m['python']}, DuckDB {m['duckdb']}; {m['when']}",
        "",
        "Pipeline (clean generated events; floor = DuckDB alone reading the NDJSON as text and "
        "unnesting it into one table in one query)",
        f"{'events':>11} {'NDJSON MB':>10} {'floor s':>8} {'load s':>7} {'build s':>8} "
        f"{'load+build':>10} {'x floor':>8} {'peak MB floor/load/build':>26}",
    ]
    for p in report.pipeline:
        fields = {k: v for k, v in p.items() if k != "ratio"}
        for step in ("floor", "load", "build"):
            fields[step] = Measure(**p[step])
        r = PipelineResult(**fields)
        lines.append(
            f"{r.events:>11,} {r.input_mb:>10,.0f} {r.floor.seconds:>8.1f} {r.load.seconds:>7.1f} "
            f"{r.build.seconds:>8.1f} {r.load.seconds + r.build.seconds:>10.1f} {r.ratio:>8.2f} "
            f"{r.floor.peak_mb:>8,.0f} /{r.load.peak_mb:>6,.0f} /{r.build.peak_mb:>6,.0f}"
        )
    if report.incremental:
        lines += [
            "",
            "Incremental (a warehouse of N events plus one more day of 1 %; dbt build as is, "
            "and as scheduled: scripts/build_warehouse.py, no unit tests)",
            f"{'events':>11} {'+ day':>8} {'load s':>7} {'build s':>8} {'share':>6} "
            f"{'scheduled s':>12} {'share':>6} {'full build s':>13}",
        ]
        for i in report.incremental:
            lines.append(
                f"{i['base_events']:>11,} {i['added_events']:>8,} {i['load_seconds']:>7.1f} "
                f"{i['incremental_build_seconds']:>8.1f} {i['incremental_share']:>6.0%} "
                f"{i['scheduled_build_seconds']:>12.1f} {i['scheduled_share']:>6.0%} "
                f"{i['full_build_seconds']:>13.1f}"
            )
    profiles = [(f"full {p['events']:,}", p.get("build_profile")) for p in report.pipeline]
    for i in report.incremental:
        profiles.append((f"+1 % on {i['base_events']:,}", i.get("incremental_profile")))
        profiles.append((f"+1 % scheduled {i['base_events']:,}", i.get("scheduled_profile")))
    profiles = [(label, prof) for label, prof in profiles if prof]
    if profiles:
        kinds = PROFILE_KINDS
        lines += [
            "",
            "Where dbt build spends its time (seconds; dbt fixed = the process less its nodes' "
            "elapsed time; node seconds summed over dbt's threads)",
            f"{'build':<26} {'total':>6} {'dbt fixed':>9} {'nodes':>5} "
            + " ".join(f"{k:>{max(len(k), 6)}}" for k in kinds),
        ]
        for label, prof in profiles:
            node = prof["node_seconds"]
            lines.append(
                f"{label:<26} {prof['seconds']:>6.1f} {prof['dbt_fixed_seconds']:>9.1f} "
                f"{prof['nodes']:>5} "
                + " ".join(f"{node.get(k, 0.0):>{max(len(k), 6)}.1f}" for k in kinds)
            )
    if report.storage:
        lines += [
            "",
            "Loader on storage files (the same clean events as NDJSON batches and as Braze's "
            "storage layout: Avro, one file per event type and hour)",
            f"{'events':>11} {'input':>7} {'files':>6} {'MB':>7} {'load s':>7} "
            f"{'events/s':>10} {'peak MB':>8}",
        ]
        for st in report.storage:
            for name in ("ndjson", "avro"):
                m = st[name]
                files = st["avro_files"] if name == "avro" else 1
                lines.append(
                    f"{st['events']:>11,} {name:>7} {files:>6,} {m['mb']:>7,.1f} "
                    f"{m['seconds']:>7.1f} {m['events'] / m['seconds']:>10,.0f} "
                    f"{m['peak_mb']:>8,.0f}"
                )
    if report.single_file:
        lines += [
            "",
            "One large file (the loader on the same lines as one NDJSON file and as the "
            "pipeline's files)",
            f"{'events':>11} {'MB':>7} {'files':>6} {'load s':>7} {'peak MB':>8} "
            f"{'one file s':>10} {'peak MB':>8} {'ratio':>6}",
        ]
        for sf in report.single_file:
            many, one = sf["files"], sf["single"]
            lines.append(
                f"{sf['events']:>11,} {sf['mb']:>7,.0f} {sf['file_count']:>6} "
                f"{many['seconds']:>7.1f} "
                f"{many['peak_mb']:>8,.0f} {one['seconds']:>10.1f} {one['peak_mb']:>8,.0f} "
                f"{one['seconds'] / many['seconds']:>6.2f}"
            )
    if report.incremental and any("empty_day_seconds" in i for i in report.incremental):
        lines += [
            "",
            "A day with no events (scripts/build_warehouse.py again, nothing new loaded) "
            "against dbt's start-up (a build that selects nothing)",
            f"{'events':>11} {'no-event day s':>14} {'dbt start-up s':>14} {'above':>6}",
        ]
        for i in report.incremental:
            if "empty_day_seconds" in i:
                lines.append(
                    f"{i['base_events']:>11,} {i['empty_day_seconds']:>14.1f} "
                    f"{i['dbt_startup_seconds']:>14.1f} "
                    f"{i['empty_day_seconds'] - i['dbt_startup_seconds']:>6.1f}"
                )
    if report.spark:
        lines += ["", *render_spark(report.spark)]
    if report.export:
        lines += ["", "Export (scripts/export_to_braze.py against the local emulator)"]
        lines += report.export.get("table", [])
    if report.receiver:
        lines += ["", *report.receiver["table"].splitlines()]
    lines += render_targets(targets(asdict(report)))
    return "\n".join(lines)


def _sizes(text: str) -> list[int]:
    """``--sizes``: comma-separated positive event counts."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of event counts: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"event counts must be positive: {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.py", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes",
        type=_sizes,
        default="100000,1000000",
        help="event counts of the pipeline benchmark (default 100000,1000000)",
    )
    p.add_argument(
        "--with-10m",
        action="store_true",
        help="also run 10 M events (generates ~7 GB once; takes a while)",
    )
    p.add_argument(
        "--with-30m",
        action="store_true",
        help="also run 30 M events: the 10 M three times, ids made distinct, in 30 gzipped files "
        "(written once); implies --with-10m",
    )
    p.add_argument(
        "--skip-single-file",
        action="store_true",
        help="with --with-10m, no loader run on the 10 M events as one file",
    )
    p.add_argument("--skip-export", action="store_true", help="no export benchmark")
    p.add_argument(
        "--storage-events",
        type=int,
        default=100_000,
        help="events of the loader's NDJSON-against-Avro benchmark (default 100000; 0: none)",
    )
    p.add_argument("--skip-incremental", action="store_true", help="no incremental benchmark")
    p.add_argument("--skip-receiver", action="store_true", help="no receiver benchmark")
    p.add_argument(
        "--spark",
        type=int,
        default=0,
        metavar="EVENTS",
        help="also build EVENTS generated events (and a day of a quarter as many) on DuckDB and "
        "on local Spark, the parity harness's run (needs make install-spark; default 0: none)",
    )
    p.add_argument(
        "--workdir",
        type=Path,
        default=PROJECT_ROOT / "bench" / "work",
        help="where inputs (cached) and scratch warehouses go (default bench/work)",
    )
    p.add_argument("--out", type=Path, default=RESULTS / "latest.json", help="JSON results")
    args = p.parse_args(argv)
    sizes = list(args.sizes)
    if args.with_10m or args.with_30m:
        sizes.append(10_000_000)
    sizes = sorted(set(sizes))
    args.workdir.mkdir(parents=True, exist_ok=True)
    report = Report(machine=machine())

    def save(final: bool = False) -> str:
        """Write what ran so far (a long run stopped midway keeps its finished sections)."""
        text = render(report)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        partial = {} if final else {"partial": True}
        args.out.write_text(
            json.dumps({**asdict(report), **partial, "table": text}, indent=2) + "\n"
        )
        return text

    # dbt parses the project once; builds below use partial parsing, as a user's would.
    dbt(["parse"], dbt_env(args.workdir))
    for n in sizes:
        print(f"== pipeline, {n:,} events", flush=True)
        files = 10 if n >= 5_000_000 else 1
        result = pipeline(n, args.workdir, files)
        report.pipeline.append({**asdict(result), "ratio": result.ratio})
        save()
    if 10_000_000 in sizes and not args.skip_single_file:
        print("== one large file, 10,000,000 events", flush=True)
        report.single_file.append(single_file(10_000_000, args.workdir))
        save()
    if not args.skip_incremental:
        # 1 M with a measured full refresh; 10 M against its pipeline build.
        builds = {p["events"]: p["build"]["seconds"] for p in report.pipeline}
        bases = [n for n in sizes if n >= 1_000_000] or sizes[-1:]
        for n in bases:
            print(f"== incremental, {n:,} events + 1 %", flush=True)
            full = None if n < 10_000_000 else builds[n]
            report.incremental.append(incremental(n, args.workdir, full))
            save()
    if args.with_30m:
        # After the incremental runs (they start from the 10 M warehouse); its own is not kept.
        print("== pipeline, 30,000,000 events (gzipped inputs)", flush=True)
        ten = generate(10_000_000, args.workdir / "inputs", seed=1, start="2026-10-01", files=10)
        inputs = copies(ten, 3, args.workdir / "inputs" / "events-30000000-copies-gz")
        result = pipeline(30_000_000, args.workdir, 30, floor_runs=1, keep=False, inputs=inputs)
        report.pipeline.append({**asdict(result), "ratio": result.ratio})
        save()
    if args.storage_events:
        print(f"== loader on storage files, {args.storage_events:,} events", flush=True)
        report.storage.append(storage_load(args.storage_events, args.workdir))
    if args.spark:
        print(f"== Spark and DuckDB, {args.spark:,} events", flush=True)
        report.spark = spark_bench(args.spark, args.workdir)
    if not args.skip_export:
        print("== export", flush=True)
        report.export = export_bench()
    if not args.skip_receiver:
        print("== receiver", flush=True)
        report.receiver = receiver_bench()
    text = save(final=True)
    print("\n" + text)
    print(f"\nwritten: {args.out}")
    return 0


def export_bench() -> dict:
    """Exporter throughput next to a bare request loop (see devtools.exporter_bench)."""
    from braze_currents.devtools import exporter_bench as export

    return export.run_for_report()


def receiver_bench() -> dict:
    """The receiver next to aiohttp's bare write+fsync handler (braze_currents.devtools)."""
    from braze_currents.devtools import receiver_bench as receiver

    return receiver.run_for_report()


def spark_bench(events: int, workdir: Path) -> dict:
    """The whole project built on DuckDB and on local Spark, full then incremental: the parity
    harness's run (braze_currents.devtools.spark_parity), whose phases time each engine."""
    import shutil

    from braze_currents.devtools import spark_parity

    work = workdir / "spark-parity"
    shutil.rmtree(work, ignore_errors=True)
    report = spark_parity.run(work, events)
    return {
        "events": events,
        "models": len(report.ported),
        "equal": report.ok(strict=True),
        "phases": [{"name": p.name, "seconds": p.seconds} for p in report.phases],
    }


def render_spark(spark: dict) -> list[str]:
    """The Spark section of the report: build seconds per engine and phase."""
    lines = [
        f"Spark against DuckDB ({spark['events']:,} events, then a day of a quarter as many; "
        f"{spark['models']} models, every row {'equal' if spark['equal'] else 'NOT equal'}; "
        "dbt build seconds, dbt's start and parse included)",
        f"{'build':<28} {'DuckDB s':>9} {'Spark s':>8} {'x DuckDB':>9}",
    ]
    for phase in spark["phases"]:
        d, s = phase["seconds"]["duckdb"], phase["seconds"]["spark"]
        lines.append(f"{phase['name']:<28} {d:>9.1f} {s:>8.1f} {s / d:>9.1f}")
    return lines
