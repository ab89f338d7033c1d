"""braze_currents.devtools.writers and scripts/generate_currents.py: every format, streaming."""

from __future__ import annotations

import csv
import gzip
import json

import pytest
from warehouse_testing import generate, run_script

from braze_currents.devtools.writers import format_of


@pytest.mark.parametrize("name", ["x.ndjson", "x.jsonl.gz", "x.json", "x.csv.gz", "x.tsv"])
def test_every_format_holds_the_same_events(tmp_path, name):
    stats = generate(tmp_path / name, "--events", "500", "--duplicate-rate", "0")
    path = tmp_path / name
    raw = (gzip.open if name.endswith(".gz") else open)(path, "rt", encoding="utf-8").read()
    fmt, _ = format_of(path)
    if fmt in ("ndjson", "jsonl"):
        arrays = [json.loads(x)["events"] for x in raw.splitlines()]
    elif fmt == "json":
        arrays = [b["events"] for b in json.loads(raw)]
    else:
        rows = list(csv.DictReader(raw.splitlines(), delimiter="," if fmt == "csv" else "\t"))
        assert all(r["time"].isdigit() for r in rows)
        arrays = [json.loads(r["events"]) for r in rows]
    ids = {e["id"] for a in arrays for e in a}
    assert len(ids) == stats["distinct_events"] == 500


def test_same_flags_same_bytes(tmp_path):
    generate(tmp_path / "a.ndjson.gz", "--events", "300")
    generate(tmp_path / "b.ndjson.gz", "--events", "300")
    assert (tmp_path / "a.ndjson.gz").read_bytes() == (tmp_path / "b.ndjson.gz").read_bytes()


def test_several_files(tmp_path):
    stats = generate(tmp_path / "out", "--events", "900", "--files", "3", "--format", "jsonl")
    files = sorted((tmp_path / "out").iterdir())
    assert [f.name for f in files] == [f"part-{i:05d}.jsonl" for i in range(3)]
    lines = sum(len(f.read_text().splitlines()) for f in files)
    assert lines == stats["records"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "x.xml"], "cannot tell the format"),
        (["-o", "x.ndjson", "--duplicate-rate", "2"], "between 0 and 1"),
        (["-o", "x.ndjson", "--days", "0"], "must be >= 1"),
    ],
)
def test_bad_arguments(tmp_path, args, message):
    proc = run_script("generate_currents.py", *args, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
