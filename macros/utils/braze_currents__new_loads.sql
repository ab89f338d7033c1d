{#- Which loads an incremental model still has to read, for staging and marts alike.

    A load is one run of the loader over one file: its batches share one `loaded_at`. Every
    incremental model keeps a `loaded_at` column: for an event or a batch, the load it came in;
    for a merged or aggregated row, the newest load among the rows it summarises.

    A load is new to a model when it is within the lookback (`braze_currents_lookback_hours`
    before the newest load the model holds) and no row of the model carries it. The lookback
    catches loads stamped with a clock behind the newest one; the list of loads already held
    keeps the rest of the window from being read again. Both are written as literals, so DuckDB
    skips the row groups of older loads (of the raw batches too, whose rows are wide) instead of
    reading every row of the window to compare it. A load that gave a model no row (every event
    of it a duplicate) looks new while it is within the lookback: reading it again repeats some
    work, never loses any, as every incremental model rebuilds what it reads idempotently. -#}

{#- A predicate on `loaded_at` that is true for the rows of the loads new to this model
    (always true in a full build). -#}
{% macro braze_currents__new_loads(loaded_at='loaded_at') -%}
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
