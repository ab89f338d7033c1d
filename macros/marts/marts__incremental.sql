{#- How the incremental marts find what is new upstream.

    A load is one run of the loader over one file: its batches share one `loaded_at`. Every
    incremental mart keeps a `loaded_at` column: for an event-grain fact, the load of the event;
    for a merged or aggregated row, the newest load among the rows it summarises.

    A load is new to a mart when it is within the lookback (`braze_currents_lookback_hours`
    before the newest load the mart holds) and no row of the mart carries it. The lookback
    catches loads stamped with a clock behind the newest one; the list of loads already held
    keeps the rest of the window from being read again. Both are written as literals, so DuckDB
    skips the row groups of older loads and a staging view parses only the new rows.

    For an aggregated row only the newest load it summarises is recorded; an older load it also
    summarises looks new again while it is within the lookback. That repeats some work, never
    loses any: every incremental mart rebuilds what it reads idempotently. -#}

{#- A predicate on `loaded_at` that is true for the rows of the loads new to this model
    (always true in a full build). -#}
{% macro marts__new_loads(loaded_at='loaded_at') -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set held_sql -%}
        with newest as (
            select max(loaded_at) - interval ({{ var('braze_currents_lookback_hours') }}) hour
                as cutoff
            from {{ this }}
        )
        select
            newest.cutoff::varchar as cutoff,
            held.loaded_at::varchar as loaded_at
        from newest
        left join (select distinct loaded_at from {{ this }}) as held
            on held.loaded_at > newest.cutoff
        order by held.loaded_at
    {%- endset -%}
    {%- set rows = run_query(held_sql).rows -%}
    {%- if rows | length == 0 or rows[0][0] is none -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set held = [] -%}
    {%- for row in rows if row[1] is not none -%}
        {%- do held.append("timestamp '" ~ row[1] ~ "'") -%}
    {%- endfor -%}
    {{- return(
        "(" ~ loaded_at ~ " > timestamp '" ~ rows[0][0] ~ "'"
        ~ (" and " ~ loaded_at ~ " not in (" ~ held | join(", ") ~ ")" if held else "")
        ~ ")"
    ) -}}
{%- endmacro %}

{#- A predicate on `column` (a TIMESTAMP or DATE column) that is true for the days that rows of
    new loads in `relations` fall on: the days a daily mart rebuilds (all of them in a full
    build, none when nothing is new). Each relation needs `loaded_at` and `column`. -#}
{% macro marts__days_to_rebuild(relations, column='event_at') -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set new_loads = marts__new_loads() -%}
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
