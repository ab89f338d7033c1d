"""Resolving models through the manifest, quoting, and streaming in chunks."""

from __future__ import annotations

import json

import duckdb
import pytest

from braze_currents.devtools.sandbox import events_sql
from braze_currents.exporter.payload import plan_columns, quote_ident
from braze_currents.exporter.settings import ConfigError
from braze_currents.exporter.source import (
    LedgerJoin,
    Relation,
    resolve_model,
    stream_query,
    stream_rows,
)


def _manifest(tmp_path, nodes):
    (tmp_path / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    return tmp_path


def _node(name, package="braze_currents", **extra):
    return {
        "resource_type": "model",
        "unique_id": f"model.{package}.{name}",
        "package_name": package,
        "name": name,
        "alias": extra.pop("alias", name),
        "database": "currents",
        "schema": "marts",
        "config": {"materialized": "table"},
        **extra,
    }


def test_resolve_by_name_package_and_unique_id(tmp_path):
    target = _manifest(tmp_path, {"model.braze_currents.m": _node("m", alias="m_table")})
    expected = Relation("currents", "marts", "m_table")
    assert resolve_model("m", target) == expected
    assert resolve_model("braze_currents.m", target) == expected
    assert resolve_model("model.braze_currents.m", target) == expected


def test_resolve_errors(tmp_path):
    with pytest.raises(ConfigError, match="no dbt manifest"):
        resolve_model("m", tmp_path)
    target = _manifest(
        tmp_path,
        {
            "model.a.m": _node("m", "a"),
            "model.b.m": _node("m", "b"),
            "x": _node("e", materialized="ephemeral"),
        },
    )
    with pytest.raises(ConfigError, match="ambiguous"):
        resolve_model("m", target)
    with pytest.raises(ConfigError, match="not in the dbt manifest"):
        resolve_model("nope", target)


def test_resolve_ephemeral_is_refused(tmp_path):
    node = _node("e")
    node["config"] = {"materialized": "ephemeral"}
    with pytest.raises(ConfigError, match="ephemeral"):
        resolve_model("e", _manifest(tmp_path, {"model.braze_currents.e": node}))


def test_hostile_names_are_quoted_never_pasted(box, emu, run):
    name = 'evil"; DROP TABLE marts.keep; --'
    box.add_model("keep", "SELECT 1 AS x")
    box.add_model(name, events_sql(3))
    result = run("--model", name, "--mode", "user_track", "--track-record-type", "custom_events")
    assert result.code == 0, result.err
    assert len(emu.store.events) == 3
    assert box.execute("SELECT x FROM marts.keep") == [(1,)]


def test_quote_ident_doubles_quotes():
    assert quote_ident('a"b') == '"a""b"'
    assert Relation(None, 's"', "t").sql() == '"s"""."t"'


def test_model_missing_from_the_database_is_a_clear_error(box, emu, run):
    box.add_model("events", events_sql(3))
    box.execute("DROP TABLE marts.events")
    result = run(
        "--model", "events", "--mode", "user_track", "--track-record-type", "custom_events"
    )
    assert result.code == 1 and "dbt build" in result.err


def test_database_name_differs_from_the_manifest(box, emu, run):
    """dbt's database is the file stem where dbt ran; the exporter may read a copy."""
    box.add_model("events", events_sql(3))
    manifest = json.loads((box.target / "manifest.json").read_text())
    for node in manifest["nodes"].values():
        node["database"] = "currents"
    (box.target / "manifest.json").write_text(json.dumps(manifest))
    result = run(
        "--model", "events", "--mode", "user_track", "--track-record-type", "custom_events"
    )
    assert result.code == 0, result.err


def test_stream_rows_yields_bounded_chunks(tmp_path):
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    con.execute(f"CREATE TABLE t AS {events_sql(2500)}")
    described = [(r[0], r[1]) for r in con.execute("DESCRIBE t").fetchall()]
    sql = stream_query(
        Relation(None, "main", "t"), plan_columns(described), (), False, LedgerJoin(None, None)
    )
    sizes = [len(chunk) for chunk in stream_rows(con, sql, [], 1000)]
    assert sizes == [1000, 1000, 500]
    first = next(iter(stream_rows(con, sql, [], 1)))[0]
    assert first[2].endswith("Z") and "T" in first[2]  # the timestamp, formatted by DuckDB
    assert len(first[4]) == 32 and first[5] == 1  # row hash, occurrence


def test_unknown_pre_formatted_column_is_a_config_error(box, emu, run):
    box.add_model("events", events_sql(3))
    result = run(
        "--model", "events", "--mode", "user_track", "--track-record-type", "custom_events",
        "--pre-formatted-fields", "nope",
    )  # fmt: skip
    assert result.code == 1 and "nope" in result.err
