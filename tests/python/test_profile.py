"""profiles.yml: the warehouse is found from any folder, and `make` and plain `dbt` give dbt
the same profile (so its partial parse survives switching between them)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from warehouse_testing import DBT

from braze_currents.config import PROJECT_ROOT

pytestmark = pytest.mark.dbt


def run_dbt(*args: str, cwd, env: dict) -> str:
    base = {k: v for k, v in os.environ.items() if k != "CURRENTS_DUCKDB_PATH"}
    proc = subprocess.run(
        [str(DBT), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**base, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env},
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    return proc.stdout


def test_make_and_plain_dbt_share_the_partial_parse(tmp_path):
    target = {"DBT_TARGET_PATH": str(tmp_path / "target")}
    run_dbt("parse", cwd=PROJECT_ROOT, env=target)  # plain dbt: the default path
    # make exports the absolute path of the same file.
    absolute = {"CURRENTS_DUCKDB_PATH": str(PROJECT_ROOT / "warehouse" / "currents.duckdb")}
    out = run_dbt("parse", cwd=PROJECT_ROOT, env={**target, **absolute})
    assert "Unable to do partial parsing" not in out, out


def test_a_relative_path_is_the_profile_folders_from_anywhere(tmp_path):
    # The shipped profile sits in the project's folder; here a copy of it sits in `profiles`,
    # and dbt runs from an unrelated folder.
    profiles, elsewhere = tmp_path / "profiles", tmp_path / "elsewhere"
    (profiles / "warehouse").mkdir(parents=True)
    elsewhere.mkdir()
    shutil.copy(PROJECT_ROOT / "profiles.yml", profiles)
    out = run_dbt(
        "debug", "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(profiles),
        cwd=elsewhere, env={"DBT_TARGET_PATH": str(tmp_path / "target")},
    )  # fmt: skip
    assert f"path: {profiles}/warehouse/currents.duckdb" in out


def test_dbt_gets_the_duckdb_settings_the_loader_uses():
    """The loader's DuckDB settings (braze_currents/warehouse.py) are dbt's too, from the same
    environment variables with the same defaults (memory, no vacuum at checkpoints), except
    the one measured to cost dbt more than it gains (DICT_FSST off)."""
    import yaml

    from braze_currents.warehouse import SETTINGS

    profile = yaml.safe_load((PROJECT_ROOT / "profiles.yml").read_text())
    settings = profile["braze_currents"]["outputs"]["dev"]["settings"]
    # DICT_FSST stays on for dbt: off, the 10 M event stream was 10 % faster but the warehouse
    # three times larger (profiles.yml).
    loader_only = {"disabled_compression_methods"}
    assert set(SETTINGS) > loader_only
    for name, (env, default) in SETTINGS.items():
        if name in loader_only:
            assert name not in settings, name
            continue
        assert f"env_var('{env}', '{default}')" in str(settings.get(name)), name
