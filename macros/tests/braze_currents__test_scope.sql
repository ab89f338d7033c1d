{#- Which rows the data-dependent tests read: those of the loads the latest dbt run staged. A
    run then checks what it brought in (older rows were checked by the run that brought them),
    and a build on 100 M events does not read or parse them all again for a test.

    The latest run's batches are the rows of stg_braze_currents__batches with the newest
    `staged_at`. The loader stamps loads in the order it loads them and every run stages each
    load newer than the newest it holds (braze_currents__new_loads), so those batches are
    exactly the loads from the earliest of them on, and the scope is a predicate on
    `loaded_at`: `loaded_at >= timestamp '...'`, the earliest load's stamp as a literal,
    looked up when the test runs, so that DuckDB skips the row groups of older loads by their
    zone maps instead of reading every row. Every incremental model has `loaded_at`: for an
    event, the load it came in; for a merged or aggregated row, the newest load it summarises,
    so a row a run rebuilt because of a new load is in scope too.

    It is `true` (every row) with `--vars '{braze_currents_test_scope: all}'`, when nothing is
    staged yet (or not even built: sqlfluff compiles without a warehouse), and when the latest
    run staged every load: a full refresh stages every batch, so it checks everything. The
    latest run is the latest that ran stg_braze_currents__batches, as every `dbt build` does: a
    run or full refresh of the marts alone is checked on the loads of the staging run before it
    (use the scope `all` there). While dbt parses it is `true`; its ref to
    stg_braze_currents__batches makes dbt run a test that uses it after that model. A caller
    that applies the scope to several relations computes it once (each call is a query). -#}
{% macro braze_currents__test_scope(loaded_at='loaded_at') -%}
    {%- set batches = ref('stg_braze_currents__batches') -%}
    {%- set scope = var('braze_currents_test_scope', 'latest_run') -%}
    {%- if scope not in ('latest_run', 'all') -%}
        {{- exceptions.raise_compiler_error(
            "braze_currents_test_scope is 'latest_run' (the default) or 'all', not '"
            ~ scope ~ "'") -}}
    {%- endif -%}
    {%- if not execute or scope == 'all' or load_relation(batches) is none -%}
        {{- return('true') -}}
    {%- endif -%}
    {%- set loads_sql -%}
        select
            cast(min(case
                when staged_at = (select max(staged_at) from {{ batches }}) then loaded_at
            end) as {{ dbt.type_string() }}) as earliest_of_latest_run,
            cast(min(loaded_at) as {{ dbt.type_string() }}) as earliest
        from {{ batches }}
    {%- endset -%}
    {%- set loads = run_query(loads_sql).rows[0] -%}
    {%- if loads[0] is none or loads[0] == loads[1] -%}
        {{- return('true') -}}
    {%- endif -%}
    {{- return(loaded_at ~ " >= timestamp '" ~ loads[0] ~ "'") -}}
{%- endmacro %}
