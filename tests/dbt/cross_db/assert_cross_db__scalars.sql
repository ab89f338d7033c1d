{#- The scalar cross-database macros give the same values on every engine: unix seconds to
    timestamps, regular expressions, safe division, array length, JSON array elements and
    keys, array lambdas, the catalogue's types. One row per check whose value differs from the
    expected one (NULL expected: written `none`). -#}
{%- set s = dbt.type_string() -%}
{%- set null_text = 'cast(null as ' ~ s ~ ')' -%}
{%- set ts = braze_currents__timestamp_from_unix_seconds -%}
{%- set replace_all = braze_currents__regex_replace_all -%}
{%- set divide = braze_currents__safe_divide -%}
{%- set length = braze_currents__array_length -%}
{%- set elements = braze_currents__json_array_elements -%}
{%- set element = braze_currents__array_element -%}
{%- set two = "'[{\"a\": 1}, \"x\"]'" -%}
{%- set message_pattern = '^users[.]messages[.]([^.]+)[.]' -%}
{%- set checks = [
    ('seconds', ts('1790000000'), '2026-09-21 14:13:20'),
    ('fractional seconds', ts('1790000000.123456'), '2026-09-21 14:13:20.123456'),
    ('seconds before 1970', ts('-1'), '1969-12-31 23:59:59'),
    ('seconds null', ts('cast(null as double)'), none),
    ('replace every match', replace_all("'users.messages.email.Send'", '[.]', '_'),
        'users_messages_email_Send'),
    ('replace with a group', replace_all("'HardBounce SoftBounce'", '([a-z])([A-Z])', '\\1_\\2'),
        'Hard_Bounce Soft_Bounce'),
    ('replace a backslash class', replace_all("'a1b22c'", '\\d+', '#'), 'a#b#c'),
    ('replace a dollar', replace_all("'5 EUR'", ' EUR', ' $'), '5 $'),
    ('replace a quote', replace_all("'it''s'", "'", '"'), 'it"s'),
    ('replace no match', replace_all("'abc'", 'x', 'y'), 'abc'),
    ('replace null', replace_all(null_text, 'x', 'y'), none),
    ('extract a group', braze_currents__regex_extract(
        "'users.messages.pushnotification.Open'", message_pattern, 1), 'pushnotification'),
    ('extract no match', braze_currents__regex_extract(
        "'users.behaviors.Purchase'", message_pattern, 1), ''),
    ('divide', divide('3', '4'), '0.75'),
    ('divide integers', divide('1', '3') ~ ' * 3', '1.0'),
    ('divide by zero', divide('3', '0'), none),
    ('divide by a double zero', divide('3.5', 'cast(0 as double)'), none),
    ('divide null', divide('cast(null as int)', '2'), none),
    ('array elements', length(elements("'[{\"a\": 1}, 2, \"x\", null, [3]]'")), '5'),
    ('array element object', element(elements(two), 1), '{"a":1}'),
    ('array element string', element(elements(two), 2), 'x'),
    ('array element beyond', element(elements("'[1]'"), 2), none),
    ('array of an object', length(elements("'{\"a\": 1}'")), none),
    ('array length null', length(elements(null_text)), none),
    ('json keys', 'concat_ws(\',\', ' ~ braze_currents__json_keys(
        "'{\"b\": 1, \"a\": {\"c\": 2}}'") ~ ')', 'b,a'),
    ('json keys of an array', length(braze_currents__json_keys("'[1, 2]'")), none),
    ('array filter', 'concat_ws(\',\', ' ~ braze_currents__array_filter(
        elements("'[\"a\", \"bb\", \"ccc\"]'"), 'x', 'length(x) > 1') ~ ')', 'bb,ccc'),
    ('array transform', 'concat_ws(\',\', ' ~ braze_currents__array_transform(
        elements("'[\"a\", \"b\"]'"), 'x', 'upper(x)') ~ ')', 'A,B'),
    ('types', "cast('7' as " ~ braze_currents__type('BIGINT') ~ ") + cast('0.5' as "
        ~ braze_currents__type('DOUBLE') ~ ")", '7.5'),
    ('double is 64 bits', "cast('0.1234567890123' as " ~ braze_currents__type('DOUBLE') ~ ")",
        '0.1234567890123'),
] -%}

{{ braze_currents__expression_checks(checks) }}
