{#- The landed batches an incremental staging model still has to read: those of the loads
    newer than the newest load it holds (braze_currents__new_loads: exact, as the loader stamps
    loads in the order it loads them; a load that gave the model no row is read again, which
    adds nothing). Duplicates and late events are removed by the models themselves (by event
    id). A full refresh reads every batch. -#}
{% macro braze_currents__batches_to_process(columns) -%}
    {{- return(adapter.dispatch('braze_currents__batches_to_process', 'braze_currents')(columns)) -}}
{%- endmacro %}

{% macro default__braze_currents__batches_to_process(columns) -%}
    select {{ columns | join(', ') }}
    from {{ source('braze_currents', 'currents_batches') }}
    where {{ braze_currents__new_loads() }}
{%- endmacro %}

{#- DuckDB gives a table scan one thread per 122,880 rows, whatever the bytes in them: the
    landed batches are few rows of large JSON (10 M events are 100,000 rows, 6.6 GB), so every
    event of a run would be unnested and parsed on one core. The batches are therefore read as
    var('braze_currents_scan_parts') ranges of rowid (contiguous in the table, so each part
    decompresses only its own rows), one UNION ALL branch each, which DuckDB runs in parallel:
    the event stream of 10 M events took 165 s on 2 cores read whole, 111 s in parts. The first
    and last parts are open-ended, so every batch the filter selects is read exactly once,
    whatever rows were appended after the bounds were read. A unit test reads its fixture whole. -#}
{% macro duckdb__braze_currents__batches_to_process(columns) -%}
    {%- set relation = source('braze_currents', 'currents_batches') -%}
    {%- set new_loads = braze_currents__new_loads() -%}
    {%- set parts = var('braze_currents_scan_parts', 4) | int -%}
    {%- set bounds = none -%}
    {#- No landed table yet (a project compiled before its first load, as sqlfluff does): the
        plain select, which says what is missing when it runs. -#}
    {%- if execute and parts > 1 and model.resource_type != 'unit_test'
        and load_relation(relation) is not none -%}
        {%- set bounds_sql -%}
            select min(rowid), max(rowid) from {{ relation }} where {{ new_loads }}
        {%- endset -%}
        {%- set bounds = run_query(bounds_sql).rows[0] -%}
    {%- endif -%}
    {%- if bounds is none or bounds[0] is none or bounds[1] - bounds[0] + 1 < parts -%}
        {{ default__braze_currents__batches_to_process(columns) }}
    {%- else -%}
        {%- set low, high = bounds[0] | int, bounds[1] | int -%}
        {%- for part in range(parts) %}
            {%- set start = low + (high - low + 1) * part // parts -%}
            {%- set stop = low + (high - low + 1) * (part + 1) // parts %}
    {% if not loop.first %}union all
    {% endif -%}
    select {{ columns | join(', ') }}
    from {{ relation }}
    where
        {{ new_loads }}
        {%- if not loop.first %}
        and rowid >= {{ start }}
        {%- endif %}
        {%- if not loop.last %}
        and rowid < {{ stop }}
        {%- endif %}
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}
