"""docs/exporter.md's GitHub Actions job, run step by step as a runner would, on fresh copies
of the project with only the cached ledger carried over from run to run.

The job's ``run:`` steps run as written (bash, ``-eo pipefail``, the job's and the step's
``env``), in a copy of the project made for each run. The ``uses:`` steps are played by this
file: checkout (the copy), setup-python (nothing), cache restore/save (a dict of directories,
the newest entry matching a prefix restored, as ``restore-keys`` does), upload-artifact (a
copy). ``make install`` links the copy to this environment's .venv, and ``aws`` on the PATH
copies this test's landing files. Braze is the emulator, the same one across runs (the ledger
is kept per endpoint).

Run 1 (``first_run``) sends every user. Run 2, with new files, sends only attributes whose
values changed, and Braze refuses one object: the export fails part-way and the ledger is
saved all the same. Run 3, the cache lost, stops at the export with no request made.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
import yaml
from warehouse_testing import generate

from braze_currents.config import PROJECT_ROOT
from braze_currents.devtools.emulator import Emulator, start_emulator

DOC = PROJECT_ROOT / "docs" / "exporter.md"
JOB = "build-and-export"
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "target", "logs", "out", "dbt_packages", "__pycache__", "*.egg-info",
    ".pytest_cache", ".ruff_cache", "*.duckdb", "*.duckdb.wal", "work", "braze-ledger",
)  # fmt: skip
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
# `aws s3 sync SRC DST ...`, as the job calls it: copies this test's landing files to DST.
FAKE_AWS = """#!/bin/sh
[ "$1 $2" = "s3 sync" ] || { echo "fake aws: only 's3 sync' is played" >&2; exit 2; }
mkdir -p "$4" && cp -R "$FAKE_S3"/. "$4"/
"""


def recipe() -> dict:
    """The workflow in docs/exporter.md's CI section (its one yaml block)."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## In CI", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the CI section holds one workflow"
    return yaml.safe_load(blocks[0])


@dataclass
class Runner:
    """Plays the workflow's job on this machine; keeps the cache and artifacts across runs."""

    root: Path
    emulator: Emulator
    landing: Path  # what `aws s3 sync` finds in the bucket
    cache: dict[str, Path] = field(default_factory=dict)  # key -> saved directory, in order
    runs: int = 0

    def run(self, inputs: dict[str, str]) -> Run:
        self.runs += 1
        workspace = self.root / f"run{self.runs}" / "workspace"
        workflow = recipe()
        # `on:` reads as True in YAML 1.1; a scheduled run gets every input empty
        declared = workflow[True]["workflow_dispatch"]["inputs"]
        inputs = {name: "" for name in declared} | inputs
        context = {
            "github.workspace": str(workspace),
            "github.run_id": str(1000 + self.runs),
            "github.run_attempt": "1",
            "vars.CURRENTS_BUCKET": "example-currents",
            "vars.BRAZE_REST_ENDPOINT": self.emulator.url,
            "secrets.BRAZE_API_KEY": self.emulator.api_key,
            **{f"inputs.{k}": v for k, v in inputs.items()},
        }
        job = workflow["jobs"][JOB]
        bin_dir = self.root / "bin"
        bin_dir.mkdir(exist_ok=True)
        (bin_dir / "aws").write_text(FAKE_AWS)
        (bin_dir / "aws").chmod(0o755)
        base_env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "HOME": os.environ.get("HOME", str(self.root)),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "FAKE_S3": str(self.landing),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **_substitute(job.get("env", {}), context),
        }
        result = Run(workspace)
        failed = False
        for step in job["steps"]:
            name = step.get("name") or step.get("uses") or step["run"]
            condition = step.get("if")
            if condition not in (None, "always()"):
                raise AssertionError(f"step {name!r}: condition {condition!r} is not played")
            if failed and condition != "always()":
                result.steps.append((name, "skipped"))
                continue
            ok = self._step(step, workspace, context, base_env, result)
            result.steps.append((name, "success" if ok else "failure"))
            failed = failed or not ok
        result.success = not failed
        print(f"run {self.runs}:", *(log.split("\n")[1] for log in result.logs))  # -s: timings
        return result

    def _step(self, step: dict, workspace: Path, context: dict, env: dict, result: Run) -> bool:
        if "uses" in step:
            return self._action(step["uses"], _substitute(step.get("with", {}), context), workspace)
        script = _substitute(step["run"], context)
        if script.strip() == "make install":  # this environment, already installed
            (workspace / ".venv").symlink_to(Path(sys.executable).parent.parent)
            return True
        started = time.monotonic()
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=workspace,
            env={**env, **_substitute(step.get("env", {}), context)},
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - started
        result.logs.append(
            f"$ {script.split()[0]}...\n({seconds:.1f} s)\n"
            f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )
        return proc.returncode == 0

    def _action(self, uses: str, args: dict, workspace: Path) -> bool:
        action = uses.split("@", 1)[0]
        if action == "actions/checkout":  # a fresh copy of the project, nothing else
            shutil.copytree(PROJECT_ROOT, workspace, ignore=COPY_IGNORE, symlinks=True)
            return True
        if action == "actions/setup-python":
            return True
        if action == "actions/cache/restore":
            keys = [args["key"], *str(args.get("restore-keys", "")).split()]
            for key in keys:  # an exact key, else the newest entry starting with a prefix
                hits = [
                    k for k in self.cache if k == key or (key != args["key"] and k.startswith(key))
                ]
                if hits:
                    shutil.copytree(self.cache[hits[-1]], workspace / args["path"])
                    break
            return True
        if action == "actions/cache/save":
            source = workspace / args["path"]
            if args["key"] in self.cache:
                raise AssertionError(f"cache key {args['key']} saved twice: keys are immutable")
            if source.exists():  # else GitHub warns and saves nothing
                saved = self.root / "cache" / args["key"]
                shutil.copytree(source, saved)
                self.cache[args["key"]] = saved
            return True
        if action == "actions/upload-artifact":
            target = self.root / "artifacts" / f"run{self.runs}"
            for pattern in str(args["path"]).split():
                for path in workspace.glob(pattern.rstrip("/")):
                    copy = target / path.relative_to(workspace)
                    if path.is_dir():
                        shutil.copytree(path, copy)
                    else:
                        copy.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy(path, copy)
            return True
        raise AssertionError(f"the recipe uses {uses}, which this test does not play")


@dataclass
class Run:
    workspace: Path
    steps: list[tuple[str, str]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    success: bool = False

    def outcome(self, name: str) -> str:
        return dict(self.steps)[name]

    def report(self) -> dict:
        return json.loads((self.workspace / "out" / "braze-user-attributes.json").read_text())

    def __str__(self) -> str:
        return "\n".join([str(self.steps), *self.logs])


def _substitute(value, context: dict):
    """``${{ ... }}`` expressions, as the runner replaces them before a step runs."""
    if isinstance(value, dict):
        return {k: _substitute(v, context) for k, v in value.items()}
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        expression = match.group(1)
        if expression not in context:
            raise AssertionError(f"the recipe uses ${{{{ {expression} }}}}, not played here")
        return context[expression]

    return EXPRESSION.sub(one, value)


def _drop(landing: Path, name: str, *args: str) -> None:
    """Generated Currents files land in the bucket (the generator's stats stay outside it)."""
    made = landing.parent / "generated" / name
    generate(made, *args)
    landing.mkdir(exist_ok=True)
    shutil.move(made, landing / name)


def _attributes_by_user(objects: list[dict]) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for obj in objects:
        latest.setdefault(obj["external_id"], {}).update(obj)
    return latest


@pytest.fixture(scope="module")
def runner(tmp_path_factory) -> Runner:
    root = tmp_path_factory.mktemp("ci")
    landing = root / "bucket"
    _drop(landing, "day1.ndjson.gz", "--events", "400", "--users", "25", "--days", "2")
    with start_emulator(api_key="ci-recipe-key-7Q") as emulator:
        yield Runner(root, emulator, landing)


def test_the_recipe_is_the_documented_job():
    workflow = recipe()
    assert workflow["concurrency"] == {"group": "braze-export", "cancel-in-progress": False}
    steps = workflow["jobs"][JOB]["steps"]
    export = next(s for s in steps if "export_to_braze.py" in s.get("run", ""))
    assert "--require-ledger" in export["run"] and '--ledger "$BRAZE_LEDGER"' in export["run"]
    names = [s.get("name") or s.get("uses") or s.get("run") for s in steps]
    load, build = names.index("Load"), names.index("dbt build")
    assert load < build < steps.index(export)  # the loader first: dbt needs its raw tables
    for name in ("Save the delivery ledger", "Keep the reports and the ledger"):
        assert steps[names.index(name)]["if"] == "always()"


@pytest.mark.dbt
def test_runs_on_fresh_runners_send_nothing_twice_and_a_lost_ledger_stops_the_export(runner):
    emu = runner.emulator

    first = runner.run({"first_run": "true"})
    assert first.success, first
    users = _attributes_by_user(emu.store.attributes)
    report = first.report()
    assert report["ledger"]["first_run"] is True
    assert report["sent"] == report["rows"] == len(users) > 0
    assert len(runner.cache) == 1

    # New Currents files arrive; the next scheduled run starts from a fresh checkout.
    _drop(
        runner.landing, "day2.ndjson.gz",
        "--events", "150", "--users", "25", "--days", "1", "--start", "2026-10-03", "--seed", "4",
    )  # fmt: skip
    # Braze refuses one user's object: the export fails part-way (exit 3), the rest is delivered.
    refused: list[str] = []

    def refuse_once(array: str, obj: dict) -> str | None:
        if array == "attributes" and not refused:
            refused.append(obj["external_id"])
            return "refused by the test"
        return None

    emu.config.reject = refuse_once
    sent_before = len(emu.store.attributes)
    try:
        second = runner.run({})  # a scheduled run: no inputs
    finally:
        emu.config.reject = None
    assert not second.success
    assert second.outcome("Export computed user attributes to Braze") == "failure", second
    report = second.report()
    assert report["exit_code"] == 3 and report["rejected_by_braze"] == 1
    assert report["ledger"]["first_run"] is False
    assert report["ledger"]["path"] == str(second.workspace / "braze-ledger" / "ledger.duckdb")
    assert report["unchanged"] > 0  # users with nothing new are not sent at all
    resent = emu.store.attributes[sent_before:]
    assert len(resent) == report["sent"] < report["rows"]
    for obj in resent:  # every value sent again is one Braze does not hold yet
        held = users.get(obj["external_id"], {})
        changed = {k for k, v in obj.items() if not k.startswith("_") and k != "external_id"}
        assert changed and all(held.get(k) != obj[k] for k in changed), (obj, held)
    # The ledger was saved all the same, with what this run delivered.
    assert second.outcome("Save the delivery ledger") == "success"
    saved = runner.cache["braze-ledger-1002-1"] / "ledger.duckdb"
    with duckdb.connect(str(saved), read_only=True) as con:
        runs = con.execute("SELECT exit_code FROM braze_export.runs ORDER BY started_at").fetchall()
        assert runs == [(0,), (3,)]
        acked = con.execute(
            "SELECT count(*) FROM braze_export.deliveries WHERE run_id = ?", [report["run_id"]]
        ).fetchone()[0]
        assert acked == report["sent"] > 0

    # The cache is lost (evicted, or written on another branch): nothing may be sent.
    runner.cache.clear()
    requests_before = emu.store.requests
    third = runner.run({})
    assert not third.success
    assert third.outcome("Export computed user attributes to Braze") == "failure"
    assert "--require-ledger: no ledger history" in third.logs[-1]
    assert emu.store.requests == requests_before
    assert third.outcome("Save the delivery ledger") == "success"
    assert not (third.workspace / "braze-ledger" / "ledger.duckdb").exists()  # none created
    for saved in runner.cache.values():  # at most the lock file: the next run stops too
        assert not (saved / "ledger.duckdb").exists()
    assert third.outcome("Keep the reports and the ledger") == "success"
