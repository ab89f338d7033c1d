"""JSON is parsed in staging only (issue 17): no model downstream of staging, and no macro the
marts use, reads JSON itself; they read the columns staging parsed."""

from __future__ import annotations

import re

from braze_currents.config import PROJECT_ROOT

# DuckDB's JSON functions and operators, and the project's cross-database JSON macros (comments
# left out: they say `Open` -> `open`).
COMMENTS = re.compile(r"\{#.*?#\}|--[^\n]*", re.DOTALL)
JSON_PARSING = re.compile(
    r"\b(from_json|json_extract\w*|json_value|json_keys|json_type|json_struct\w*|"
    r"json_array\w*|json_merge_patch|braze_currents__json_\w+)\s*\(|->>?\s*'",
    re.IGNORECASE,
)


def downstream_sql() -> list:
    files = [
        p
        for p in (PROJECT_ROOT / "models").rglob("*.sql")
        if "staging" not in p.relative_to(PROJECT_ROOT / "models").parts
    ]
    return files + sorted((PROJECT_ROOT / "macros" / "marts").rglob("*.sql"))


def test_the_pattern_finds_every_way_of_parsing_json():
    for sql in (
        "from_json(properties, '{}')",
        "properties ->> 'campaign_id'",
        "properties->'$.a'",
        "json_extract_string(properties, '$.a')",
        "{{ braze_currents__json_struct('properties', {}) }}",
        "{{ braze_currents__json_value('properties', 'a', 'VARCHAR') }}",
    ):
        assert JSON_PARSING.search(sql), sql
    assert not JSON_PARSING.search("select campaign_id, send_id from messages")


def test_no_model_downstream_of_staging_parses_json():
    files = downstream_sql()
    assert any(p.name == "int_message_events.sql" for p in files)
    offenders = {
        str(p.relative_to(PROJECT_ROOT)): m.group(0)
        for p in files
        for m in [JSON_PARSING.search(COMMENTS.sub("", p.read_text()))]
        if m
    }
    assert offenders == {}
