{#- The cross-database macros that aggregate or unnest give the same rows on every engine:
    max_by/min_by (NULL orderings ignored, a NULL value of the chosen row returned) and
    string_agg_distinct (sorted, NULLs left out), unnest_rows (positions from 1, no row
    for an empty or NULL array). One row per
    check whose value differs from the expected one. -#}
{%- set s = dbt.type_string() -%}

with

ranked as (
    select
        'a' as grp,
        'x' as val,
        1 as ord
    union all
    select
        'a' as grp,
        'y' as val,
        3 as ord
    union all
    select
        'a' as grp,
        'z' as val,
        2 as ord
    union all
    select
        'b' as grp,
        cast(null as {{ s }}) as val,
        5 as ord
    union all
    select
        'b' as grp,
        'w' as val,
        4 as ord
    union all
    select
        'c' as grp,
        'v' as val,
        cast(null as int) as ord
    union all
    select
        'c' as grp,
        'u' as val,
        1 as ord
),

by_group as (
    select
        grp,
        {{ braze_currents__max_by('val', 'ord') }} as max_val,
        {{ braze_currents__min_by('val', 'ord') }} as min_val,
        {{ braze_currents__string_agg_distinct('val', ', ') }} as all_vals
    from ranked
    group by grp
),

arrays as (
    select
        1 as id,
        '["p", "q", "r"]' as doc
    union all
    select
        2 as id,
        '[]' as doc
    union all
    select
        3 as id,
        cast(null as {{ s }}) as doc
    union all
    select
        4 as id,
        '["s"]' as doc
),

unnested as (
    {{ braze_currents__unnest_rows(
        'arrays', ['id'], braze_currents__json_array_elements('arrays.doc'), 'elem', 'pos') }}
),

flattened as (
    select
        {{ braze_currents__array_agg_sorted(
            "concat(cast(id as " ~ s ~ "), ':', cast(pos as " ~ s ~ "), ':', elem)") }}
            as positions
    from unnested
),

checks as (
    select
        'max_by a' as check_name,
        max_val as actual,
        'y' as expected
    from by_group
    where grp = 'a'
    union all
    select
        'min_by a' as check_name,
        min_val as actual,
        'x' as expected
    from by_group
    where grp = 'a'
    union all
    select
        'max_by null value' as check_name,
        max_val as actual,
        cast(null as {{ s }}) as expected
    from by_group
    where grp = 'b'
    union all
    select
        'min_by b' as check_name,
        min_val as actual,
        'w' as expected
    from by_group
    where grp = 'b'
    union all
    select
        'max_by null ordering' as check_name,
        max_val as actual,
        'u' as expected
    from by_group
    where grp = 'c'
    union all
    select
        'string_agg_distinct' as check_name,
        all_vals as actual,
        'x, y, z' as expected
    from by_group
    where grp = 'a'
    union all
    select
        'string_agg_distinct null' as check_name,
        all_vals as actual,
        'w' as expected
    from by_group
    where grp = 'b'
    union all
    select
        'unnest' as check_name,
        concat_ws(',', positions) as actual,
        '1:1:p,1:2:q,1:3:r,4:1:s' as expected
    from flattened
)

select *
from checks
where actual is distinct from expected
