{#- The scalar cross-database macros give the same values on every engine: unix seconds to
    timestamps, regular expressions, safe division, array length, JSON array elements and
    keys, the catalogue's types. One row per check whose value differs from the expected one. -#}

with

checks as (
    select 'seconds' as check_name, cast({{ braze_currents__timestamp_from_unix_seconds('1790000000') }} as {{ dbt.type_string() }}) as actual, '2026-09-21 14:13:20' as expected
    union all
    select 'fractional seconds', cast({{ braze_currents__timestamp_from_unix_seconds('1790000000.123456') }} as {{ dbt.type_string() }}), '2026-09-21 14:13:20.123456'
    union all
    select 'seconds before 1970', cast({{ braze_currents__timestamp_from_unix_seconds('-1') }} as {{ dbt.type_string() }}), '1969-12-31 23:59:59'
    union all
    select 'seconds null', cast({{ braze_currents__timestamp_from_unix_seconds('cast(null as double)') }} as {{ dbt.type_string() }}), null
    union all
    select 'replace every match', {{ braze_currents__regex_replace_all("'users.messages.email.Send'", '[.]', '_') }}, 'users_messages_email_Send'
    union all
    select 'replace with a group', {{ braze_currents__regex_replace_all("'HardBounce SoftBounce'", '([a-z])([A-Z])', '\\1_\\2') }}, 'Hard_Bounce Soft_Bounce'
    union all
    select 'replace a backslash class', {{ braze_currents__regex_replace_all("'a1b22c'", '\\d+', '#') }}, 'a#b#c'
    union all
    select 'replace a dollar', {{ braze_currents__regex_replace_all("'5 EUR'", ' EUR', ' $') }}, '5 $'
    union all
    select 'replace no match', {{ braze_currents__regex_replace_all("'abc'", 'x', 'y') }}, 'abc'
    union all
    select 'replace null', {{ braze_currents__regex_replace_all('cast(null as ' ~ dbt.type_string() ~ ')', 'x', 'y') }}, null
    union all
    select 'extract a group', {{ braze_currents__regex_extract("'users.messages.pushnotification.Open'", '^users[.]messages[.]([^.]+)[.]', 1) }}, 'pushnotification'
    union all
    select 'extract no match', {{ braze_currents__regex_extract("'users.behaviors.Purchase'", '^users[.]messages[.]([^.]+)[.]', 1) }}, ''
    union all
    select 'divide', cast({{ braze_currents__safe_divide('3', '4') }} as {{ dbt.type_string() }}), '0.75'
    union all
    select 'divide integers', cast({{ braze_currents__safe_divide('1', '3') }} * 3 as {{ dbt.type_string() }}), '1.0'
    union all
    select 'divide by zero', cast({{ braze_currents__safe_divide('3', '0') }} as {{ dbt.type_string() }}), null
    union all
    select 'divide by a double zero', cast({{ braze_currents__safe_divide('3.5', 'cast(0 as double)') }} as {{ dbt.type_string() }}), null
    union all
    select 'divide null', cast({{ braze_currents__safe_divide('cast(null as int)', '2') }} as {{ dbt.type_string() }}), null
    union all
    select 'array elements', cast({{ braze_currents__array_length(braze_currents__json_array_elements("'[{\"a\": 1}, 2, \"x\", null, [3]]'")) }} as {{ dbt.type_string() }}), '5'
    union all
    select 'array element object', {{ braze_currents__array_element(braze_currents__json_array_elements("'[{\"a\": 1}, \"x\"]'"), 1) }}, '{"a":1}'
    union all
    select 'array element string', {{ braze_currents__array_element(braze_currents__json_array_elements("'[{\"a\": 1}, \"x\"]'"), 2) }}, 'x'
    union all
    select 'array element beyond', {{ braze_currents__array_element(braze_currents__json_array_elements("'[1]'"), 2) }}, null
    union all
    select 'array of an object', cast({{ braze_currents__array_length(braze_currents__json_array_elements("'{\"a\": 1}'")) }} as {{ dbt.type_string() }}), null
    union all
    select 'array length null', cast({{ braze_currents__array_length(braze_currents__json_array_elements('cast(null as ' ~ dbt.type_string() ~ ')')) }} as {{ dbt.type_string() }}), null
    union all
    select 'json keys', concat_ws(',', {{ braze_currents__json_keys("'{\"b\": 1, \"a\": {\"c\": 2}}'") }}), 'b,a'
    union all
    select 'json keys of an array', cast({{ braze_currents__array_length(braze_currents__json_keys("'[1, 2]'")) }} as {{ dbt.type_string() }}), null
    union all
    select 'array filter', concat_ws(',', {{ braze_currents__array_filter(braze_currents__json_array_elements("'[\"a\", \"bb\", \"ccc\"]'"), 'x', 'length(x) > 1') }}), 'bb,ccc'
    union all
    select 'array transform', concat_ws(',', {{ braze_currents__array_transform(braze_currents__json_array_elements("'[\"a\", \"b\"]'"), 'x', 'upper(x)') }}), 'A,B'
    union all
    select 'types', cast(cast('7' as {{ braze_currents__type('BIGINT') }}) + cast('0.5' as {{ braze_currents__type('DOUBLE') }}) as {{ braze_currents__type('VARCHAR') }}), '7.5'
    union all
    select 'double is 64 bits', cast(cast('0.1234567890123' as {{ braze_currents__type('DOUBLE') }}) as {{ dbt.type_string() }}), '0.1234567890123'
)

select *
from checks
where actual is distinct from expected
