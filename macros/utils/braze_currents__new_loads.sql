{#- Which loads an incremental model still has to read, for staging and marts alike.

    A load is one run of the loader over one file: its batches share one `loaded_at`, and the
    loader stamps loads strictly in the order it loads them (each after every load already in
    the warehouse, even when its clock is behind). Every incremental model keeps a `loaded_at`
    column: for an event or a batch, the load it came in; for a merged or aggregated row, the
    newest load among the rows it summarises.

    The new loads are those newer than the newest load the model holds, and that is exact:
    every load not newer than it has been read. Each run reads every load newer than the
    model's newest row, and a load stamped before another was loaded before it; so when a run
    wrote the newest row, every older load was already there (in the raw batches, and in the
    models upstream, which run first and follow the same rule) for that run or an earlier one
    to read. No list of the loads a model holds is needed, and an aggregated row that records
    only the newest load it summarises loses nothing by it. A load that gave the model no row
    (every event of it a duplicate, or none of the kind the model holds) is read again by each
    run until a newer load gives the model a row: that repeats some work, never loses any, as
    every incremental model rebuilds what it reads idempotently. The newest load is written as
    a literal, so DuckDB skips the row groups of older loads (of the raw batches too, whose rows
    are wide) by their zone maps. -#}

{#- A predicate on `loaded_at` that is true for the rows of the loads new to this model
    (always true in a full build, and on an empty model). -#}
{% macro braze_currents__new_loads(loaded_at='loaded_at') -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set newest_sql -%}
        select cast(max(loaded_at) as {{ dbt.type_string() }}) as newest from {{ this }}
    {%- endset -%}
    {%- set newest = run_query(newest_sql).rows[0][0] -%}
    {%- if newest is none -%}
        {{- return('true') -}}
    {%- endif -%}
    {{- return(loaded_at ~ " > timestamp '" ~ newest ~ "'") -}}
{%- endmacro %}
