{#- The JSON object macros the event stream reads envelopes with give the same values on every
    engine: kinds, extraction, array items, objects built, keys removed, objects merged. One row
    per check whose value differs from the expected one (NULL expected: written `none`). -#}
{%- set s = dbt.type_string() -%}
{%- set null_text = 'cast(null as ' ~ s ~ ')' -%}
{%- set kind = braze_currents__json_type -%}
{%- set extract = braze_currents__json_extract -%}
{%- set items = braze_currents__json_array_items -%}
{%- set element = braze_currents__array_element -%}
{%- set length = braze_currents__array_length -%}
{%- set event = "'{\"id\": \"e1\", \"time\": 7.0, \"user\": {\"user_id\": \"u\"}, "
    ~ "\"app\": {\"v\": 1}, \"n\": null}'" -%}
{%- set checks = [
    ('kind object', kind(event), 'OBJECT'),
    ('kind array', kind("'[1, 2]'"), 'ARRAY'),
    ('kind string', kind("'\"7\"'"), 'VARCHAR'),
    ('kind integer', kind("'7'"), 'UBIGINT'),
    ('kind negative integer', kind("'-7'"), 'BIGINT'),
    ('kind beyond bigint', kind("'18446744073709551615'"), 'UBIGINT'),
    ('kind decimal', kind("'7.0'"), 'DOUBLE'),
    ('kind exponent', kind("'1e3'"), 'DOUBLE'),
    ('kind boolean', kind("'false'"), 'BOOLEAN'),
    ('kind json null', kind("'null'"), 'NULL'),
    ('kind sql null', kind(null_text), none),
    ('valid', braze_currents__json_is_valid("'{\"a\": 1}'"), 'true'),
    ('not valid', braze_currents__json_is_valid("'{oops'"), 'false'),
    ('string value', braze_currents__json_string_value("'\"a b\"'"), 'a b'),
    ('extract a number as written', extract(event, 'time'), '7.0'),
    ('extract a string keeps its quotes', extract(event, 'id'), '"e1"'),
    ('extract an object', extract(event, 'user'), '{"user_id":"u"}'),
    ('extract a json null', extract(event, 'n'), 'null'),
    ('extract a missing key', extract(event, 'nope'), none),
    ('extract from an array', extract("'[1]'", 'a'), none),
    ('items', length(items("'[{\"a\": 1}, \"x\", 2.50, null]'")), '4'),
    ('item object', element(items("'[{\"a\": 1}, \"x\"]'"), 1), '{"a":1}'),
    ('item string keeps its quotes', element(items("'[{\"a\": 1}, \"x\"]'"), 2), '"x"'),
    ('item number as written', element(items("'[7.0]'"), 1), '7.0'),
    ('items of an object', 'coalesce(' ~ length(items("'{\"a\": 1}'")) ~ ', 0)', '0'),
    ('struct array', element(braze_currents__json_struct_array(
        "'[{\"id\": 7, \"t\": \"1.5\"}, {\"id\": \"b\"}]'", {'id': 'VARCHAR', 't': 'DOUBLE'}),
        1) ~ '.t + 1', '2.5'),
    ('struct array text id', element(braze_currents__json_struct_array(
        "'[{\"id\": 7}, {\"id\": \"b\"}]'", {'id': 'VARCHAR'}), 2) ~ '.id', 'b'),
    ('object', braze_currents__json_object('k', "cast('[1,2]' as " ~ braze_currents__type('json') ~ ')'),
        '{"k":[1,2]}'),
    ('object of null', braze_currents__json_object('k', null_text), '{"k":null}'),
    ('remove keys', braze_currents__json_remove_keys(event, ['id', 'time', 'user', 'n']),
        '{"app":{"v":1}}'),
    ('remove every key', braze_currents__json_remove_keys("'{\"id\": 1}'", ['id']), '{}'),
    ('merge adds and replaces', braze_currents__json_merge(
        "'{\"a\": 1, \"b\": 2}'", "'{\"b\": \"x\", \"c\": [3]}'"), '{"a":1,"b":"x","c":[3]}'),
    ('merge removes a null', braze_currents__json_merge(
        "'{\"a\": 1, \"b\": 2}'", "'{\"b\": null}'"), '{"a":1}'),
] -%}

{{ braze_currents__expression_checks(checks) }}
