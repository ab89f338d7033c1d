{#- Run before every dbt command that builds (on-run-start): a warehouse nothing was loaded into
    yet (a CI job building before its first load) gets the loader's raw tables, empty, so that
    every model builds, empty, instead of failing on a missing source. A warehouse that has them
    is left alone.

    The tables are those of braze_currents/warehouse.py (RAW_DDL), column for column:
    tests/python/test_workspaces.py compares the two. -#}
{% macro braze_currents__ensure_raw_tables() -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set batches = source('braze_currents', 'currents_batches') -%}
    {%- set existing = adapter.get_relation(
        database=batches.database, schema=batches.schema, identifier=batches.identifier) -%}
    {%- if existing is none -%}
        {{- log(
            "No Currents batches were loaded into this warehouse yet (" ~ batches
            ~ " does not exist): creating the raw tables empty; every model builds empty"
            ~ " until scripts/load_currents.py loads some.", info=true) -}}
        {%- do run_query(
            adapter.dispatch('braze_currents__raw_tables_ddl', 'braze_currents')(batches)) -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
    {{- return('select 1') -}}
{%- endmacro %}

{% macro default__braze_currents__raw_tables_ddl(batches) -%}
    create schema if not exists {{ batches.schema }};
    create table if not exists {{ batches.schema }}.currents_batches (
        batch_id varchar not null,
        source_file varchar not null,
        source_line bigint not null,
        received_at timestamp not null,
        loaded_at timestamp not null,
        events json not null,
        event_count integer not null
    );
    create table if not exists {{ batches.schema }}.currents_rejected (
        reject_id varchar not null,
        source_file varchar not null,
        source_line bigint not null,
        reason varchar not null,
        raw varchar not null,
        rejected_at timestamp not null
    );
    create table if not exists {{ batches.schema }}.currents_repaired (
        batch_id varchar not null,
        source_file varchar not null,
        source_line bigint not null,
        repair varchar not null,
        raw varchar not null,
        repaired_at timestamp not null
    );
    create table if not exists {{ batches.schema }}.currents_loads (
        loaded_at timestamp not null,
        source_file varchar not null,
        records bigint not null,
        accepted bigint not null,
        duplicates bigint not null,
        rejected bigint not null,
        blank_lines bigint not null,
        events bigint not null,
        recovered boolean not null
    );
{%- endmacro %}

{#- Spark reads `raw` from the Parquet landing (macros/cross_db/braze_currents__landing.sql):
    tables over files no load has written cannot be made, so say what to run instead of
    failing on the DDL. -#}
{% macro spark__braze_currents__raw_tables_ddl(batches) -%}
    {{- exceptions.raise_compiler_error(
        batches ~ " does not exist on this Spark target: load with scripts/load_currents.py"
        ~ " --landing-parquet DIR, then run `dbt run-operation braze_currents__register_landing"
        ~ " --target spark` (README, \"Running on Spark\").") -}}
{%- endmacro %}
