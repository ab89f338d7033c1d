{#- braze_currents__json_struct() converts JSON values as DuckDB's from_json() does, on every
    engine: numbers, numbers and booleans held as text, text that is no number, null, a missing
    key, objects, arrays, exponents, an overflow, padding, timestamps with and without an
    offset; and nested objects. One row per case and type whose value differs from the
    expected one. Each case: the document, then the expected BIGINT, DOUBLE, BOOLEAN, VARCHAR,
    TIMESTAMP and JSON values as SQL literals. -#}
{%- set s = dbt.type_string() -%}
{%- set types = ['BIGINT', 'DOUBLE', 'BOOLEAN', 'VARCHAR', 'TIMESTAMP', 'JSON'] -%}
{%- set sql_types = ['bigint', 'double', 'boolean', s, 'timestamp', s] -%}
{%- set cases = [
    ("{\"k\": 7}", "7", "7.0", "true", "'7'", "null", "'7'"),
    ("{\"k\": 7.0}", "7", "7.0", "true", "'7.0'", "null", "'7.0'"),
    ("{\"k\": 7.5}", "8", "7.5", "true", "'7.5'", "null", "'7.5'"),
    ("{\"k\": -7.5}", "-8", "-7.5", "true", "'-7.5'", "null", "'-7.5'"),
    ("{\"k\": \"7\"}", "7", "7.0", "null", "'7'", "null", "'\"7\"'"),
    ("{\"k\": \"7.0\"}", "7", "7.0", "null", "'7.0'", "null", "'\"7.0\"'"),
    ("{\"k\": \"7.5\"}", "8", "7.5", "null", "'7.5'", "null", "'\"7.5\"'"),
    ("{\"k\": \"abc\"}", "null", "null", "null", "'abc'", "null", "'\"abc\"'"),
    ("{\"k\": true}", "1", "1.0", "true", "'true'", "null", "'true'"),
    ("{\"k\": false}", "0", "0.0", "false", "'false'", "null", "'false'"),
    ("{\"k\": \"false\"}", "null", "null", "false", "'false'", "null", "'\"false\"'"),
    ("{\"k\": \"yes\"}", "null", "null", "true", "'yes'", "null", "'\"yes\"'"),
    ("{\"k\": \"0\"}", "0", "0.0", "false", "'0'", "null", "'\"0\"'"),
    ("{\"k\": null}", "null", "null", "null", "null", "null", "null"),
    ("{\"other\": 1}", "null", "null", "null", "null", "null", "null"),
    ("{\"k\": {\"a\": 1}}", "null", "null", "null", "'{\"a\":1}'", "null", "'{\"a\":1}'"),
    ("{\"k\": [1, 2]}", "null", "null", "null", "'[1,2]'", "null", "'[1,2]'"),
    ("{\"k\": 1e3}", "1000", "1000.0", "true", "'1000.0'", "null", "'1000.0'"),
    ("{\"k\": \"1e3\"}", "1000", "1000.0", "null", "'1e3'", "null", "'\"1e3\"'"),
    (
        "{\"k\": 9223372036854775808}",
        "null",
        "9223372036854775808.0",
        "true",
        "'9223372036854775808'",
        "null",
        "'9223372036854775808'"
    ),
    ("{\"k\": \" 7 \"}", "7", "7.0", "null", "' 7 '", "null", "'\" 7 \"'"),
    (
        "{\"k\": \"2026-01-02T03:04:05Z\"}",
        "null",
        "null",
        "null",
        "'2026-01-02T03:04:05Z'",
        "'2026-01-02 03:04:05'",
        "'\"2026-01-02T03:04:05Z\"'"
    ),
    (
        "{\"k\": \"2026-01-02 03:04:05.123+01:00\"}",
        "null",
        "null",
        "null",
        "'2026-01-02 03:04:05.123+01:00'",
        "'2026-01-02 03:04:05.123'",
        "'\"2026-01-02 03:04:05.123+01:00\"'"
    ),
    ("{\"k\": \"\"}", "null", "null", "null", "''", "null", "'\"\"'"),
    (
        "{\"k\": 1790000000}",
        "1790000000",
        "1790000000.0",
        "true",
        "'1790000000'",
        "null",
        "'1790000000'"
    ),
] -%}
{%- set nested = braze_currents__json_struct(
    'doc', {'u': {'user_id': 'VARCHAR', 'n': 'BIGINT'}, 'x-y': 'BOOLEAN'}) -%}
{%- set xy = adapter.quote('x-y') -%}

with

-- noqa: disable=LT02
-- (Jinja loops write the rows; LT02 cannot follow their rendered indentation)
cases as (
    {%- for c in cases %}
        select
            {{ loop.index }} as case_id,
            {{ braze_currents__string_literal(c[0]) }} as doc,
            {%- for t in types %}
                cast({{ c[loop.index] }} as {{ sql_types[loop.index0] }})
                    as e_{{ t | lower }}{{ ',' if not loop.last }}
            {%- endfor %}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

converted as (
    select
        cases.*,
        {%- for t in types %}
            {%- set value = braze_currents__json_struct('doc', {'k': t}) ~ '.k' %}
            cast({{ value }} as {{ sql_types[loop.index0] }})
                as a_{{ t | lower }}{{ ',' if not loop.last }}
        {%- endfor %}
    from cases
),

differences as (
    {%- for t in types %}
        select
            case_id,
            doc,
            '{{ t }}' as data_type,
            cast(e_{{ t | lower }} as {{ s }}) as expected,
            cast(a_{{ t | lower }} as {{ s }}) as actual
        from converted
        where a_{{ t | lower }} is distinct from e_{{ t | lower }}
        union all
    {%- endfor %}
    select
        0 as case_id,
        doc,
        'nested' as data_type,
        'b1,5,true' as expected,
        concat_ws(',', s.u.user_id, cast(s.u.n as {{ s }}), cast(s.{{ xy }} as {{ s }})) as actual
    from (
        select
            doc,
            {{ nested }} as s
        from (select '{"u": {"user_id": "b1", "n": "5"}, "x-y": 1}' as doc) as n
    ) as nested_case
    where not coalesce(s.u.user_id = 'b1' and s.u.n = 5 and s.{{ xy }}, false)
)

select * from differences
