{#- braze_currents__json_struct() converts JSON values as DuckDB's from_json() does, on every
    engine: numbers, numbers and booleans held as text, text that is no number, null, a missing
    key, objects, arrays, exponents, an overflow, padding, timestamps with and without an
    offset. One row per case and type whose value differs from the expected one. -#}
{%- set types = ['BIGINT', 'DOUBLE', 'BOOLEAN', 'VARCHAR', 'TIMESTAMP', 'JSON'] %}

with

cases as (
    select * from (values
        (1, '{"k": 7}', 7, 7.0, true, '7', null, '7'),
        (2, '{"k": 7.0}', 7, 7.0, true, '7.0', null, '7.0'),
        (3, '{"k": 7.5}', 8, 7.5, true, '7.5', null, '7.5'),
        (4, '{"k": -7.5}', -8, -7.5, true, '-7.5', null, '-7.5'),
        (5, '{"k": "7"}', 7, 7.0, null, '7', null, '"7"'),
        (6, '{"k": "7.0"}', 7, 7.0, null, '7.0', null, '"7.0"'),
        (7, '{"k": "7.5"}', 8, 7.5, null, '7.5', null, '"7.5"'),
        (8, '{"k": "abc"}', null, null, null, 'abc', null, '"abc"'),
        (9, '{"k": true}', 1, 1.0, true, 'true', null, 'true'),
        (10, '{"k": false}', 0, 0.0, false, 'false', null, 'false'),
        (11, '{"k": "false"}', null, null, false, 'false', null, '"false"'),
        (12, '{"k": "yes"}', null, null, true, 'yes', null, '"yes"'),
        (13, '{"k": "0"}', 0, 0.0, false, '0', null, '"0"'),
        (14, '{"k": null}', null, null, null, null, null, null),
        (15, '{"other": 1}', null, null, null, null, null, null),
        (16, '{"k": {"a": 1}}', null, null, null, '{"a":1}', null, '{"a":1}'),
        (17, '{"k": [1, 2]}', null, null, null, '[1,2]', null, '[1,2]'),
        (18, '{"k": 1e3}', 1000, 1000.0, true, '1000.0', null, '1000.0'),
        (19, '{"k": "1e3"}', 1000, 1000.0, null, '1e3', null, '"1e3"'),
        (20, '{"k": 9223372036854775808}', null, 9223372036854775808.0, true, '9223372036854775808', null, '9223372036854775808'),
        (21, '{"k": " 7 "}', 7, 7.0, null, ' 7 ', null, '" 7 "'),
        (22, '{"k": "2026-01-02T03:04:05Z"}', null, null, null, '2026-01-02T03:04:05Z', '2026-01-02 03:04:05', '"2026-01-02T03:04:05Z"'),
        (23, '{"k": "2026-01-02 03:04:05.123+01:00"}', null, null, null, '2026-01-02 03:04:05.123+01:00', '2026-01-02 03:04:05.123', '"2026-01-02 03:04:05.123+01:00"'),
        (24, '{"k": ""}', null, null, null, '', null, '""'),
        (25, '{"k": 1790000000}', 1790000000, 1790000000.0, true, '1790000000', null, '1790000000')
    ) as c (case_id, doc, e_bigint, e_double, e_boolean, e_varchar, e_timestamp, e_json)
),

converted as (
    select
        case_id,
        doc,
        e_bigint,
        e_double,
        e_boolean,
        e_varchar,
        cast(e_timestamp as timestamp) as e_timestamp,
        e_json,
        {{ braze_currents__json_struct('doc', {'k': 'BIGINT'}) }}.k as a_bigint,
        {{ braze_currents__json_struct('doc', {'k': 'DOUBLE'}) }}.k as a_double,
        {{ braze_currents__json_struct('doc', {'k': 'BOOLEAN'}) }}.k as a_boolean,
        {{ braze_currents__json_struct('doc', {'k': 'VARCHAR'}) }}.k as a_varchar,
        {{ braze_currents__json_struct('doc', {'k': 'TIMESTAMP'}) }}.k as a_timestamp,
        cast({{ braze_currents__json_struct('doc', {'k': 'JSON'}) }}.k as {{ dbt.type_string() }}) as a_json
    from cases
)

{% for t in types %}
    select
        case_id,
        doc,
        '{{ t }}' as data_type,
        cast(e_{{ t | lower }} as {{ dbt.type_string() }}) as expected,
        cast(a_{{ t | lower }} as {{ dbt.type_string() }}) as actual
    from converted
    where a_{{ t | lower }} is distinct from e_{{ t | lower }}
    {% if not loop.last %}union all{% endif %}
{% endfor %}

union all

-- nested objects, and a key that needs quoting
select
    0 as case_id,
    doc,
    'nested' as data_type,
    '["b1",5,true]' as expected,
    concat_ws(',', s.u.user_id, cast(s.u.n as {{ dbt.type_string() }}), cast(s.{{ adapter.quote('x-y') }} as {{ dbt.type_string() }})) as actual
from (
    select
        doc,
        {{ braze_currents__json_struct('doc', {'u': {'user_id': 'VARCHAR', 'n': 'BIGINT'}, 'x-y': 'BOOLEAN'}) }} as s
    from (select '{"u": {"user_id": "b1", "n": "5"}, "x-y": 1}' as doc) as n
) as nested
where not coalesce(s.u.user_id = 'b1' and s.u.n = 5 and s.{{ adapter.quote('x-y') }}, false)
