{#- The landed batches an incremental staging model still has to read: those loaded after the
    newest batch it holds, and those loaded within `braze_currents_lookback_hours` before it
    that gave it no row yet. Duplicates and late events are removed by the models themselves
    (by event id), so the lookback only guards against batches loaded with a clock behind the
    warehouse's. A full refresh reads every batch. -#}
{% macro braze_currents__batches_to_process(columns) -%}
    select {{ columns | join(', ') }}
    from {{ source('braze_currents', 'currents_batches') }}
    {%- if is_incremental() %}
        where loaded_at > (
            select coalesce(max(loaded_at), '1970-01-01'::timestamp)
                - interval ({{ var('braze_currents_lookback_hours') }}) hour
            from {{ this }}
        )
        and batch_id not in (
            select distinct batch_id from {{ this }}
            where loaded_at > (
                select coalesce(max(loaded_at), '1970-01-01'::timestamp)
                    - interval ({{ var('braze_currents_lookback_hours') }}) hour
                from {{ this }}
            )
        )
    {%- endif %}
{%- endmacro %}
