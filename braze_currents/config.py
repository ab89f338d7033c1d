"""Settings shared by the command-line tools. Read when a tool starts, never at import time."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DUCKDB_PATH_ENV = "CURRENTS_DUCKDB_PATH"
DEFAULT_DUCKDB_PATH = Path("warehouse") / "currents.duckdb"


def duckdb_path(cli_value: str | None = None, environ: dict[str, str] | None = None) -> Path:
    """The warehouse file: ``--database`` first, then ``CURRENTS_DUCKDB_PATH``, then the default
    ``warehouse/currents.duckdb`` under the project root."""
    env = os.environ if environ is None else environ
    if cli_value:
        return Path(cli_value).expanduser().resolve()
    if env.get(DUCKDB_PATH_ENV):
        return Path(env[DUCKDB_PATH_ENV]).expanduser().resolve()
    return PROJECT_ROOT / DEFAULT_DUCKDB_PATH
