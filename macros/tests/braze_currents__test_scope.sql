{#- Which events the data-dependent staging tests read (the drift warnings and the typed
    models' coverage test): those of the batches the latest dbt run staged
    (`stg_braze_currents__batches.staged_at`). A run then checks what it brought in, and a
    build on 100 M events does not parse or join all of them again for a test. A full refresh
    stages every batch, so it checks everything; `--vars '{braze_currents_test_scope: all}'`
    does the same on any run. -#}
{% macro braze_currents__test_scope(batch_id='batch_id') -%}
    {%- if var('braze_currents_test_scope', 'latest_run') == 'all' -%}
        true
    {%- else -%}
        {{ batch_id }} in (
            select batch_id
            from {{ ref('stg_braze_currents__batches') }}
            where staged_at = (select max(staged_at) from {{ ref('stg_braze_currents__batches') }})
        )
    {%- endif -%}
{%- endmacro %}
