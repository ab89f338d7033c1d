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
        select distinct cast(cast({{ column }} as date) as {{ dbt.type_string() }}) as day
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
        ~ " and " ~ column ~ " < date_add(date '" ~ days[-1] ~ "', 1)"
        ~ " and cast(" ~ column ~ " as date) in (date '" ~ days | join("', date '") ~ "'))"
    ) -}}
{%- endmacro %}

{#- How an incremental mart replaces what it rebuilds, per engine, as the model's config:
    `{{ config(**marts__daily_incremental('event_date')) }}`. The model's SQL is the same on
    every engine; only the write differs (README, "Running on Spark"; docs/spark.md).

    Day-keyed marts (one row per day and dimensions, rebuilt for the days new loads touch):
    DuckDB deletes the rebuilt days and inserts their rows (`delete+insert` on the day); Spark,
    whose Parquet tables have no delete, partitions the table by the day and overwrites the
    partitions of the rebuilt days (`insert_overwrite`, dynamic partition overwrite). Both
    replace exactly the days the run selected. -#}
{% macro marts__daily_incremental(day_column) -%}
    {{- return(adapter.dispatch('marts__daily_incremental', 'braze_currents')(day_column)) -}}
{%- endmacro %}

{% macro default__marts__daily_incremental(day_column) -%}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': day_column,
        'on_schema_change': 'fail',
    }) -}}
{%- endmacro %}

{% macro spark__marts__daily_incremental(day_column) -%}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'partition_by': [day_column],
        'file_format': 'parquet',
        'on_schema_change': 'fail',
    }) -}}
{%- endmacro %}

{#- Entity-keyed marts (one row per user, session or message, rebuilt from the whole history
    of the entities new loads touch; never from `{{ this }}`, which Spark cannot read in a
    statement that overwrites it). Each has `entity_bucket`, a bucket of its entity
    (marts__entity_bucket, the same value on every engine). DuckDB deletes the rebuilt
    entities by `unique_key` and inserts them; Spark partitions by `entity_bucket` and
    overwrites the buckets that hold a touched entity, so it rebuilds every entity of those
    buckets (marts__rebuilds_entity says which rows a run reads). On an engine with `merge`
    (Delta tables on Databricks), `merge` on `unique_key` would do too (not set up here). -#}
{% macro marts__entity_incremental(unique_key) -%}
    {{- return(adapter.dispatch('marts__entity_incremental', 'braze_currents')(unique_key)) -}}
{%- endmacro %}

{% macro default__marts__entity_incremental(unique_key) -%}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'delete+insert',
        'unique_key': unique_key,
        'on_schema_change': 'fail',
    }) -}}
{%- endmacro %}

{% macro spark__marts__entity_incremental(unique_key) -%}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'partition_by': ['entity_bucket'],
        'file_format': 'parquet',
        'on_schema_change': 'fail',
    }) -}}
{%- endmacro %}

{#- The bucket of an entity key (0 .. var `braze_currents_entity_buckets` - 1, default 32):
    the `entity_bucket` column of the entity-keyed marts. More buckets make a Spark run
    rewrite less of the table and write more files. -#}
{% macro marts__entity_bucket(key) -%}
    {{- braze_currents__bucket(key, var('braze_currents_entity_buckets', 32) | int) -}}
{%- endmacro %}

{#- A predicate for an entity-keyed mart: true for the rows of the entities (`entity`, a SQL
    expression) a run rebuilds, given `touched`, a subquery of the one column of the entities
    new loads touched. Always true in a full build. DuckDB: the touched entities; Spark: every
    entity in the bucket of a touched one (the partitions the run overwrites). -#}
{% macro marts__rebuilds_entity(entity, touched) -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return('true') -}}
    {%- endif -%}
    {{- return(adapter.dispatch('marts__rebuilds_entity', 'braze_currents')(entity, touched)) -}}
{%- endmacro %}

{% macro default__marts__rebuilds_entity(entity, touched) -%}
    {{ entity }} in ({{ touched }})
{%- endmacro %}

{% macro spark__marts__rebuilds_entity(entity, touched) -%}
    {{ marts__entity_bucket(entity) }} in (
        select distinct {{ marts__entity_bucket('touched_entity') }}
        from ({{ touched }}) as touched (touched_entity)
    )
{%- endmacro %}

{#- A narrower predicate an entity-keyed mart may add where the entity it is partitioned by
    holds several rows of the mart (fct_message_sends: a user's messages): true for the rows
    of `key` in `touched` on DuckDB, and always on Spark (every row of an overwritten bucket is
    rebuilt). -#}
{% macro marts__rebuilds_key(key, touched) -%}
    {%- if not (execute and is_incremental()) -%}
        {{- return('true') -}}
    {%- endif -%}
    {{- return(adapter.dispatch('marts__rebuilds_key', 'braze_currents')(key, touched)) -}}
{%- endmacro %}

{% macro default__marts__rebuilds_key(key, touched) -%}
    {{ key }} in ({{ touched }})
{%- endmacro %}

{% macro spark__marts__rebuilds_key(key, touched) -%}
    true
{%- endmacro %}
