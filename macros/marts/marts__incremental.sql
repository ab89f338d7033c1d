{#- How the incremental marts find what is new upstream: the loads newer than the newest one
    the mart holds (braze_currents__new_loads, macros/utils), and the days those loads touch.

    An aggregated row records only the newest load it summarises, and that is all the rule
    needs: loads are stamped in the order they are loaded and each run reads every load newer
    than the mart's newest row, so every older load was read before. A new load that gave the
    mart no row is read again by the next run (its days rebuilt again): that repeats some work,
    never loses any, as every incremental mart rebuilds what it reads idempotently. -#}

{#- A predicate on `column` (a TIMESTAMP or DATE column) that is true for the days that rows of
    new loads in `relations` fall on: the days a daily mart rebuilds (all of them in a full
    build, none when nothing is new). Each relation needs `loaded_at` and `column`. -#}
{% macro marts__days_to_rebuild(relations, column='event_at') -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set new_loads = braze_currents__new_loads() -%}
    {%- set days_sql -%}
        {%- for relation in relations %}
        select distinct {{ column }}::date::varchar as day
        from {{ relation }}
        where {{ new_loads }} and {{ column }} is not null
        {%- if not loop.last %}
        union
        {%- endif %}
        {%- endfor %}
        order by day
    {%- endset -%}
    {%- set days = [] -%}
    {%- for row in run_query(days_sql).rows -%}
        {%- do days.append(row[0]) -%}
    {%- endfor -%}
    {%- if not days -%}
        {{- return('false') -}}
    {%- endif -%}
    {{- return(
        "(" ~ column ~ " >= date '" ~ days[0] ~ "'"
        ~ " and " ~ column ~ " < date '" ~ days[-1] ~ "' + 1"
        ~ " and " ~ column ~ "::date in ('" ~ days | join("', '") ~ "'))"
    ) -}}
{%- endmacro %}
