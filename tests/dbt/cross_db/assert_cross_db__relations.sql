{#- The cross-database macros that aggregate or unnest give the same rows on every engine:
    max_by/min_by (NULL orderings ignored, a NULL value of the chosen row returned) and
    unnest_with_index (positions from 1, no row for an empty or NULL array). One row per
    check whose value differs from the expected one. -#}

with

ranked as (
    select * from (values
        ('a', 'x', 1), ('a', 'y', 3), ('a', 'z', 2),
        ('b', cast(null as {{ dbt.type_string() }}), 5), ('b', 'w', 4),
        ('c', 'v', cast(null as int)), ('c', 'u', 1)
    ) as r (grp, val, ord)
),

by_group as (
    select
        grp,
        {{ braze_currents__max_by('val', 'ord') }} as max_val,
        {{ braze_currents__min_by('val', 'ord') }} as min_val
    from ranked
    group by grp
),

arrays as (
    select * from (values
        (1, '["p", "q", "r"]'), (2, '[]'), (3, cast(null as {{ dbt.type_string() }})), (4, '["s"]')
    ) as a (id, doc)
),

unnested as (
    select
        arrays.id,
        e.pos,
        e.elem
    from arrays
    {{ braze_currents__unnest_with_index(braze_currents__json_array_elements('arrays.doc'), 'e', 'elem', 'pos') }}
),

checks as (
    select 'max_by a' as check_name, max_val as actual, 'y' as expected from by_group where grp = 'a'
    union all
    select 'min_by a', min_val, 'x' from by_group where grp = 'a'
    union all
    select 'max_by null value', max_val, null from by_group where grp = 'b'
    union all
    select 'min_by b', min_val, 'w' from by_group where grp = 'b'
    union all
    select 'max_by null ordering', max_val, 'u' from by_group where grp = 'c'
    union all
    select 'unnest', concat_ws(',', collect_rows), '1:1:p,1:2:q,1:3:r,4:1:s'
    from (
        select {{ braze_currents__array_agg_sorted("concat(cast(id as " ~ dbt.type_string() ~ "), ':', cast(pos as " ~ dbt.type_string() ~ "), ':', elem)") }} as collect_rows
        from unnested
    ) as u
)

select *
from checks
where actual is distinct from expected
