"""The semantic layer, queried through the MetricFlow CLI (`mf query`) against a built
warehouse: its metrics agree with the same questions asked of the marts in SQL, and its
ratios are ratios of sums (right over any grouping)."""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from braze_currents.config import PROJECT_ROOT

pytestmark = pytest.mark.dbt

MF = Path(sys.executable).parent / "mf"


@pytest.fixture(scope="module")
def mf_query(built_warehouse, tmp_path_factory):
    """Run `mf query` on a copy of the built warehouse; returns the rows of its CSV. mf reads
    `target/semantic_manifest.json` under the directory it runs in, so it runs in a directory
    of its own holding the project's files and the build's semantic manifest."""
    root = tmp_path_factory.mktemp("mf")
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    (root / "target").mkdir()
    shutil.copy(built_warehouse.target / "semantic_manifest.json", root / "target")
    wh = built_warehouse.copy_to(root / "warehouse")

    def query(*args: str) -> list[dict]:
        out = root / "out.csv"
        out.unlink(missing_ok=True)
        proc = subprocess.run(
            [str(MF), "query", *args, "--csv", str(out)],
            capture_output=True,
            text=True,
            cwd=root,
            env={**os.environ, "CURRENTS_DUCKDB_PATH": str(wh.path)},
        )
        assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
        with out.open() as f:
            return list(csv.DictReader(f))

    return query


def test_revenue_by_currency(built_warehouse, mf_query):
    rows = mf_query("--metrics", "revenue,purchases", "--group-by", "purchase__currency")
    got = {
        r["purchase__currency"] or None: (round(float(r["revenue"] or 0), 6), int(r["purchases"]))
        for r in rows
    }
    expected = {
        currency: (round(revenue or 0, 6), n)
        for currency, revenue, n in built_warehouse.query(
            "select currency, sum(price), count(*) from marts.fct_purchases group by 1"
        )
    }
    assert got == expected and len(got) > 1


def test_open_rate_is_a_ratio_of_sums_per_channel(built_warehouse, mf_query):
    rows = mf_query(
        "--metrics", "open_rate,sends,unique_opens", "--group-by", "send__channel"
    )  # fmt: skip
    expected = {
        channel: (opened / delivered if delivered else None, sent, openers)
        for channel, opened, delivered, sent, openers in built_warehouse.query(
            "select channel, count(*) filter (where is_opened), "
            "count(*) filter (where is_delivered), count(*) filter (where is_sent), "
            "count(distinct braze_id) filter (where is_opened) "
            "from marts.fct_message_sends group by 1"
        )
    }
    got = {
        r["send__channel"]: (
            float(r["open_rate"]) if r["open_rate"] else None,
            int(r["sends"]),
            int(r["unique_opens"]),
        )
        for r in rows
    }
    assert set(got) == set(expected)
    for channel, (rate, sends, openers) in got.items():
        want = expected[channel]
        assert (sends, openers) == want[1:], channel
        assert (rate is None) == (want[0] is None), channel
        if rate is not None:
            assert math.isclose(rate, want[0]), channel
    assert expected["email"][0] and expected["email"][2] > 0
