"""Reading a dbt model: resolve it through the manifest, then stream its rows in chunks.

The relation and every column are quoted as identifiers; values (the ledger key) travel as
bound parameters. Nothing here holds more than one chunk of rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from braze_currents.exporter.payload import (
    ALIAS_COLUMNS,
    SYNTHETIC_PREFIX,
    ColumnPlan,
    quote_ident,
)
from braze_currents.exporter.settings import ConfigError

ROW_HASH = "__braze_row_hash"
OCCURRENCE = "__braze_occurrence"
USER_KEY = "__braze_user_key"
PREV_STATE = "__braze_prev_state"
SOURCE_ALIAS = "__braze_src"
CONTENT_HASH = "__braze_content_hash"
ORDINAL = "__braze_row"  # the row's position in the model, as scanned
CERTIFIED = "__braze_certified"
ELEMENT = "__braze_element"


@dataclass(frozen=True)
class Relation:
    database: str | None
    schema: str
    name: str

    def sql(self) -> str:
        parts = [self.database] if self.database else []
        return ".".join(quote_ident(p) for p in [*parts, self.schema, self.name])

    def __str__(self) -> str:
        return ".".join(p for p in (self.database, self.schema, self.name) if p)


def resolve_model(model: str, target_path: Path) -> Relation:
    """The relation dbt built for ``model`` (name, ``package.name`` or unique id)."""
    manifest_path = target_path / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no dbt manifest at {manifest_path}: run `dbt build` (or `dbt parse`) first, "
            "or point DBT_TARGET_PATH at dbt's target directory"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the dbt manifest {manifest_path}: {exc}") from None

    matches = []
    for node in (manifest.get("nodes") or {}).values():
        if node.get("resource_type") != "model":
            continue
        names = {
            node.get("name"),
            node.get("unique_id"),
            f"{node.get('package_name')}.{node.get('name')}",
        }
        if model in names:
            matches.append(node)
    if len(matches) > 1:  # versioned models: the latest version, else ambiguous
        latest = [
            n
            for n in matches
            if n.get("version") is not None and n.get("version") == n.get("latest_version")
        ]
        if len(latest) == 1:
            matches = latest
    if not matches:
        raise ConfigError(f"model {model!r} is not in the dbt manifest {manifest_path}")
    if len(matches) > 1:
        ids = ", ".join(sorted(n.get("unique_id", "?") for n in matches))
        raise ConfigError(f"model {model!r} is ambiguous in the manifest: {ids}")
    node = matches[0]
    if node.get("config", {}).get("materialized") == "ephemeral":
        raise ConfigError(f"model {model!r} is ephemeral: it has no relation to read")
    name = node.get("alias") or node.get("name")
    schema = node.get("schema")
    if not name or not schema:
        raise ConfigError(f"model {model!r} has no schema/alias in the manifest")
    return Relation(node.get("database") or None, schema, name)


def locate(con: duckdb.DuckDBPyConnection, relation: Relation) -> Relation:
    """The relation as this connection can read it. dbt's database name is the DuckDB file's
    stem; when the exporter reads a file under another name, the schema and name still hold."""
    if relation.database:  # binding it is the cheapest way to ask (a first look at the
        try:  # catalog through information_schema or duckdb_tables() costs 10-20 ms)
            con.execute(f"SELECT 1 FROM {relation.sql()} LIMIT 0")
            return relation
        except duckdb.Error:  # another name, or no such relation: look it up
            pass
    rows = con.execute(
        "SELECT database_name FROM duckdb_tables() WHERE schema_name = $schema "
        "AND table_name = $name UNION ALL SELECT database_name FROM duckdb_views() "
        "WHERE schema_name = $schema AND view_name = $name AND NOT internal",
        {"schema": relation.schema, "name": relation.name},
    ).fetchall()
    catalogs = [r[0] for r in rows]
    if relation.database in catalogs:
        return relation
    if len(catalogs) == 1:
        return Relation(catalogs[0], relation.schema, relation.name)
    current = con.execute("SELECT current_database()").fetchone()[0]
    if current in catalogs:
        return Relation(current, relation.schema, relation.name)
    raise ConfigError(
        f"relation {relation} of the model is not in the database: run `dbt build` first"
    )


def describe(con: duckdb.DuckDBPyConnection, relation: Relation) -> list[tuple[str, str]]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {relation.sql()}").fetchall()
    columns = [(r[0], r[1]) for r in rows]
    reserved = [c for c, _ in columns if c.startswith(SYNTHETIC_PREFIX)]
    if reserved:
        raise ConfigError(
            f"column names starting with {SYNTHETIC_PREFIX!r} are reserved: {reserved}"
        )
    return columns


def count_rows(con: duckdb.DuckDBPyConnection, relation: Relation) -> int:
    return int(con.execute(f"SELECT count(*) FROM {relation.sql()}").fetchone()[0])


def alias_update_only_rows(
    con: duckdb.DuckDBPyConnection, relation: Relation, columns: Sequence[tuple[str, str]]
) -> int:
    """Rows identified by an alias alone that do not set ``_update_existing_only`` to false:
    Braze updates existing alias profiles with them and creates none."""
    types = {name: t.upper() for name, t in columns}
    if "alias_name" not in types:
        return 0
    where = ['"alias_name" IS NOT NULL']
    where += [f'"{c}" IS NULL' for c in ("external_id", "braze_id") if c in types]
    flag = types.get("_update_existing_only")
    if flag == "BOOLEAN":
        where.append('coalesce("_update_existing_only", TRUE)')
    elif flag is not None:
        where.append('"_update_existing_only" IS NULL')
    sql = f"SELECT count(*) FROM {relation.sql()} WHERE {' AND '.join(where)}"
    return int(con.execute(sql).fetchone()[0])


def user_key_sql(columns: Sequence[str]) -> str:
    """SQL for the user a row is about (the first identifier present), for the attribute
    ledger: ``external_id:u1``, ``alias:["n","l"]``..."""
    names = set(columns)
    parts = []
    for column in ("external_id", "braze_id"):
        if column in names:
            parts.append(f"'{column}:' || CAST({quote_ident(column)} AS VARCHAR)")
    if all(c in names for c in ALIAS_COLUMNS):
        parts.append(
            "'alias:' || CAST(to_json([CAST(\"alias_name\" AS VARCHAR), "
            'CAST("alias_label" AS VARCHAR)]) AS VARCHAR)'
        )
    for column in ("email", "phone"):
        if column in names:
            parts.append(f"'{column}:' || CAST({quote_ident(column)} AS VARCHAR)")
    return f"coalesce({', '.join(parts)})" if parts else "CAST(NULL AS VARCHAR)"


@dataclass(frozen=True)
class LedgerJoin:
    """How the stream query consults the ledger (table names are the ledger's, quoted)."""

    deliveries: str | None  # skip rows acknowledged before, unless None
    attribute_state: str | None  # attach each user's last acknowledged attributes, unless None

    def params(self, export_key: str) -> list[object]:
        """The stream query's parameters: ``$1`` is the export key when the ledger is read."""
        return [export_key] if (self.deliveries or self.attribute_state) else []


def stream_query(
    relation: Relation,
    plans: Sequence[ColumnPlan],
    key_columns: Sequence[str],
    with_user_key: bool,
    ledger: LedgerJoin,
    only_where: str | None = None,
    certified: str = "FALSE",
    element: str | None = None,
) -> str:
    """The one query the export reads: the model's columns as ``plans`` say, each row's ledger
    identity (hash of the key columns or of the whole row, plus which copy of equal rows it is),
    the user key, the previous attribute state, and whether ``certified`` (a predicate over the
    model's columns, see certify.py) vouches for the row. Parameter ``$1``: the ledger's export
    key. ``only_where``: an extra condition over the model's columns. ``element``: SQL
    rendering a certified row's JSON element, when DuckDB can (NULL otherwise)."""
    src = quote_ident(SOURCE_ALIAS)
    columns = [p.name for p in plans]
    whole_row = f"md5(CAST(to_json({src}) AS VARCHAR))"
    keyed = [f"{src}.*", f"row_number() OVER () AS {ORDINAL}"]
    if key_columns:  # rows with equal keys are numbered in the order of their content
        packed = ", ".join(f"{quote_ident(c)} := {src}.{quote_ident(c)}" for c in key_columns)
        keyed.append(f"md5(CAST(to_json(struct_pack({packed})) AS VARCHAR)) AS {ROW_HASH}")
        keyed.append(f"{whole_row} AS {CONTENT_HASH}")
        order = f" ORDER BY {CONTENT_HASH}"
    else:
        keyed.append(f"{whole_row} AS {ROW_HASH}")
        order = ""
    user_key = user_key_sql(columns) if with_user_key else "CAST(NULL AS VARCHAR)"
    select = ", ".join(p.sql for p in plans)
    sql = [
        f"WITH keyed AS (SELECT {', '.join(keyed)}, {user_key} AS {USER_KEY}",
        f"  FROM {relation.sql()} AS {src}),",
        f"numbered AS (SELECT keyed.*, row_number() OVER (PARTITION BY {ROW_HASH}{order})",
        f"  AS {OCCURRENCE} FROM keyed)",
        f"SELECT {select}, {ROW_HASH}, {OCCURRENCE}, {USER_KEY}, "
        + (
            f"st.{PREV_STATE}"
            if ledger.attribute_state
            else f"CAST(NULL AS VARCHAR) AS {PREV_STATE}"
        )
        + f", {ORDINAL}, coalesce({certified}, FALSE) AS {CERTIFIED}"
        + (
            f", CASE WHEN coalesce({certified}, FALSE) THEN {element} END AS {ELEMENT}"
            if element
            else f", CAST(NULL AS VARCHAR) AS {ELEMENT}"
        ),
        "FROM numbered",
    ]
    if ledger.attribute_state:
        sql.append(
            f"LEFT JOIN (SELECT user_key AS __braze_state_user, arg_max(attributes, seq) AS "
            f"{PREV_STATE} FROM {ledger.attribute_state} WHERE export_key = $1 GROUP BY user_key) "
            f"AS st ON st.__braze_state_user = numbered.{USER_KEY}"
        )
    where = []
    if ledger.deliveries:
        where.append(
            f"NOT EXISTS (SELECT 1 FROM {ledger.deliveries} AS d WHERE d.export_key = $1 "
            f"AND d.row_hash = numbered.{ROW_HASH} AND d.occurrence = numbered.{OCCURRENCE})"
        )
    if only_where:
        where.append(f"({only_where})")
    if where:
        sql.append("WHERE " + " AND ".join(where))
    return "\n".join(sql)


def rendered_query(certified_sql: str) -> str:
    """The certified rows of ``certified_sql`` (a ``stream_query`` with rendered elements), as
    all the sending pass needs of them: position, the element DuckDB rendered and the row's
    line in the delivery journal (``batching.journal_line``: row hash, occurrence, two empty
    fields)."""
    line = f"concat({ROW_HASH}, chr(9), {OCCURRENCE}, chr(9), chr(9), chr(10))"
    return f"SELECT {ORDINAL}, {ELEMENT}, {line} FROM ({certified_sql}) AS certified"


# How far DuckDB may compute ahead of the rows fetched (its default, 10 MiB, is the whole result
# of a smaller model: the first rows would come only once every row is rendered).
STREAMING_BUFFER = "512KB"
FIRST_FETCH_ROWS = 1000  # a first small fetch, so that the first requests leave early


def stream_rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object], chunk_rows: int
) -> Iterator[list[tuple]]:
    """Chunks of fetched tuples; DuckDB streams the result, so memory stays at one chunk."""
    cursor = con.cursor()
    try:
        cursor.execute(f"SET streaming_buffer_size = '{STREAMING_BUFFER}'")
        cursor.execute(sql, list(params))
        size = min(chunk_rows, FIRST_FETCH_ROWS)
        while True:
            chunk = cursor.fetchmany(size)
            if not chunk:
                return
            yield chunk
            size = chunk_rows
    finally:
        cursor.close()
