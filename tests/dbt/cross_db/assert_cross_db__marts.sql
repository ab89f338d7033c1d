{#- The cross-database macros the marts use give the same values on every engine: maps built
    in key order (NULL, not empty, when no row qualifies) and read without failing on a
    missing key, sorted distinct arrays, arg_max that skips NULL values, orderings of several
    columns, discrete quantiles and medians, second and day differences, adding days, a series
    of days, entity buckets and ratios without `inf`. One row per check whose value differs
    from the expected one. -#}
{%- set s = dbt.type_string() -%}
{%- set null_text = 'cast(null as ' ~ s ~ ')' -%}
{%- set map_of_maps = braze_currents__map_get(
    braze_currents__map_get('by_group', "'b'"), "'y'") -%}
{%- set seconds_up = braze_currents__seconds_between(
    "timestamp '2026-01-01 00:00:00.9'", "timestamp '2026-01-01 00:00:01.1'") -%}
{%- set seconds_down = braze_currents__seconds_between(
    "timestamp '2026-01-01 00:01:00'", "timestamp '2026-01-01 00:00:00'") -%}
{%- set days_apart = braze_currents__days_between("date '2026-02-27'", "date '2026-03-02'") -%}
{%- set later = braze_currents__add_days("timestamp '2026-02-27 10:30:00'", '2') -%}
{%- set actions = [] -%}
{%- for name in [
    'email.MarkAsSpam', 'sms.SMSDelivery', 'email.Open', 'pushnotification.IosForeground'
] -%}
    {%- do actions.append(marts__message_action("'users.messages." ~ name ~ "'")) -%}
{%- endfor -%}
{%- set matches = [] -%}
{%- for text in ['EUR', 'EURO', 'xEUR', 'eur'] -%}
    {%- do matches.append('cast(' ~ braze_currents__regex_full_match(
        "'" ~ text ~ "'", '[A-Z]{3}') ~ ' as ' ~ s ~ ')') -%}
{%- endfor -%}

with

rows_in as (
    {%- for grp, k, v, ord in [
        ('a', 'y', 2, 1), ('a', 'x', 1, 2), ('a', 'z', 3, 3),
        ('b', 'x', none, 1), ('b', 'y', 5, 0),
        ('c', none, none, 1),
    ] %}
        select
            '{{ grp }}' as grp,
            {{ "'" ~ k ~ "'" if k is not none else null_text }} as k,
            {{ v if v is not none else 'cast(null as bigint)' }} as v,
            {{ ord }} as ord
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

per_group as (
    select
        grp,
        {{ braze_currents__map_agg_sorted('k', 'v', 'k is not null') }} as kv,
        {{ braze_currents__map_agg_sorted('k', 'ord', 'v is not null') }} as k_ord,
        {{ braze_currents__array_agg_distinct_sorted('k') }} as ks,
        {{ braze_currents__max_by_not_null('v', 'ord') }} as latest_v,
        {{ braze_currents__min_by('k', braze_currents__ordering(['-v', 'k'])) }} as top_k,
        {{ braze_currents__quantile_disc('v', 0.5) }} as q50,
        {{ braze_currents__median('v') }} as med
    from rows_in
    group by grp
),

nested as (
    select {{ braze_currents__map_agg_sorted('grp', 'kv') }} as by_group
    from per_group
    where kv is not null
),

quantiles as (
    select
        {{ braze_currents__quantile_disc('id', 0.95) }} as q95,
        {{ braze_currents__quantile_disc('id', 0.5) }} as q50,
        {{ braze_currents__median('id') }} as med
    from (
        {%- for id in range(20, 0, -1) %}
            select {{ id }} as id
            {%- if not loop.last %}
                union all
            {%- endif %}
        {%- endfor %}
    ) as ids
),

days as (
    select {{ braze_currents__unnest_days("date '2026-02-27'", "date '2026-03-02'", 'day') }}
),

checks as (
    select
        'map keys in order' as check_name,
        concat_ws(',', map_keys(kv)) as actual,
        'x,y,z' as expected
    from per_group
    where grp = 'a'
    union all
    select
        'map value' as check_name,
        cast({{ braze_currents__map_get('kv', "'z'") }} as {{ s }}) as actual,
        '3' as expected
    from per_group
    where grp = 'a'
    union all
    select
        'map missing key' as check_name,
        cast({{ braze_currents__map_get('kv', "'w'") }} as {{ s }}) as actual,
        {{ null_text }} as expected
    from per_group
    where grp = 'a'
    union all
    select
        'map with a null value' as check_name,
        concat_ws(',', map_keys(kv)) as actual,
        'x,y' as expected
    from per_group
    where grp = 'b'
    union all
    select
        'map of no row is null' as check_name,
        cast(kv is null as {{ s }}) as actual,
        'true' as expected
    from per_group
    where grp = 'c'
    union all
    select
        'map filtered' as check_name,
        concat_ws(',', map_keys(k_ord)) as actual,
        'y' as expected
    from per_group
    where grp = 'b'
    union all
    select
        'map of maps' as check_name,
        cast({{ map_of_maps }} as {{ s }}) as actual,
        '5' as expected
    from nested
    union all
    select
        'round map values' as check_name,
        concat_ws(',', map_keys({{ braze_currents__map_round_values('kv', 0) }})) as actual,
        'y' as expected
    from per_group
    where grp = 'b'
    union all
    select
        'distinct sorted' as check_name,
        concat_ws(',', ks) as actual,
        'x,y,z' as expected
    from per_group
    where grp = 'a'
    union all
    select
        'distinct sorted of no value is null' as check_name,
        cast({{ braze_currents__array_length('ks') }} as {{ s }}) as actual,
        {{ null_text }} as expected
    from per_group
    where grp = 'c'
    union all
    select
        'max_by skips a null value' as check_name,
        cast(latest_v as {{ s }}) as actual,
        '5' as expected
    from per_group
    where grp = 'b'
    union all
    select
        'ordering of two columns' as check_name,
        top_k as actual,
        'z' as expected
    from per_group
    where grp = 'a'
    union all
    select
        'quantile_disc of 3' as check_name,
        cast(q50 as {{ s }}) as actual,
        '2' as expected
    from per_group
    where grp = 'a'
    union all
    select
        'median of 2' as check_name,
        cast(med as {{ s }}) as actual,
        '5.0' as expected
    from per_group
    where grp = 'b'
    union all
    select
        'quantile_disc 0.95 of 20' as check_name,
        cast(q95 as {{ s }}) as actual,
        '19' as expected
    from quantiles
    union all
    select
        'quantile_disc 0.5 of 20' as check_name,
        cast(q50 as {{ s }}) as actual,
        '10' as expected
    from quantiles
    union all
    select
        'median of 20' as check_name,
        cast(med as {{ s }}) as actual,
        '10.5' as expected
    from quantiles
    union all
    select
        'seconds between crosses boundaries' as check_name,
        cast({{ seconds_up }} as {{ s }}) as actual,
        '1' as expected
    union all
    select
        'seconds between backwards' as check_name,
        cast({{ seconds_down }} as {{ s }}) as actual,
        '-60' as expected
    union all
    select
        'days between' as check_name,
        cast({{ days_apart }} as {{ s }}) as actual,
        '3' as expected
    union all
    select
        'add days keeps the time' as check_name,
        cast({{ later }} as {{ s }}) as actual,
        '2026-03-01 10:30:00' as expected
    union all
    select
        'series of days' as check_name,
        cast(count(*) as {{ s }}) || ' ' || cast(max(day) as {{ s }}) as actual,
        '3 2026-03-01' as expected
    from days
    union all
    select
        'bucket' as check_name,
        cast({{ braze_currents__bucket("'abc'", 32) }} as {{ s }}) || ','
        || cast({{ braze_currents__bucket("''", 32) }} as {{ s }}) || ','
        || cast({{ braze_currents__bucket(null_text, 32) }} as {{ s }}) || ','
        || cast({{ braze_currents__bucket("'u1'", 7) }} as {{ s }}) as actual,
        '24,25,25,4' as expected
    union all
    select
        'full match' as check_name,
        concat_ws(',', {{ matches | join(', ') }}) as actual,
        'true,false,false,false' as expected
    union all
    select
        'message actions' as check_name,
        concat_ws(',', {{ actions | join(', ') }}) as actual,
        'mark_as_spam,sms_delivery,open,ios_foreground' as expected
    union all
    select
        'ratio by zero is null' as check_name,
        cast({{ marts__ratio('cast(1.5 as double)', 'cast(0 as double)') }} as {{ s }}) as actual,
        {{ null_text }} as expected
    union all
    select
        'ratio of integers' as check_name,
        cast({{ marts__ratio('1', '4') }} as {{ s }}) as actual,
        '0.25' as expected
)

select *
from checks
where actual is distinct from expected
