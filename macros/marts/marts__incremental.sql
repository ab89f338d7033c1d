{#- How the incremental marts find what is new upstream: the loads they do not hold yet
    (braze_currents__new_loads, macros/utils), and the days those loads touch.

    For an aggregated row only the newest load it summarises is recorded; an older load it also
    summarises looks new again while it is within the lookback. That repeats some work, never
    loses any: every incremental mart rebuilds what it reads idempotently. -#}

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
