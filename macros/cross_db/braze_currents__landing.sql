{#- The raw landing as the `raw` schema, for engines that read it from the Parquet files the
    loader writes (scripts/load_currents.py --landing-parquet DIR; README, "Running on Spark").
    `dbt run-operation braze_currents__register_landing --target spark` once, and again when the
    raw tables gain a column (not a hook: DuckDB builds stay as they are). DuckDB holds `raw`
    itself: there it does nothing.

    Spark: raw.currents_batches, raw.currents_rejected and raw.currents_loads are external
    tables over DIR/<table>/ (var `braze_currents_landing_dir`, default $CURRENTS_LANDING_DIR,
    else warehouse/landing, best absolute): re-created by each call with the columns of the
    files (a column added later is NULL in the files written before it). Spark lists a table's
    files when a session first reads it, so every build reads every load published before it
    started. Dropping them never deletes a file. -#}
{% macro braze_currents__register_landing() -%}
    {{- return(adapter.dispatch('braze_currents__register_landing', 'braze_currents')()) -}}
{%- endmacro %}

{% macro default__braze_currents__register_landing() -%}
{%- endmacro %}

{% macro spark__braze_currents__register_landing() -%}
    {%- if execute -%}
        {%- set landing = var('braze_currents_landing_dir', env_var('CURRENTS_LANDING_DIR', 'warehouse/landing')) -%}
        {%- do run_query('create schema if not exists raw') -%}
        {%- for table in ['currents_batches', 'currents_rejected', 'currents_loads'] -%}
            {%- do run_query('drop table if exists raw.' ~ table) -%}
            {%- do run_query(
                'create table raw.' ~ table ~ " using parquet options (mergeSchema 'true') location '"
                ~ landing ~ '/' ~ table ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
