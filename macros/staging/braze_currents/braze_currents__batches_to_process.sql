{#- The landed batches an incremental staging model still has to read: those of the loads it
    does not hold yet (braze_currents__new_loads: the loads since its newest, and those within
    `braze_currents_lookback_hours` before it that gave it no row). Duplicates and late events
    are removed by the models themselves (by event id). A full refresh reads every batch. -#}
{% macro braze_currents__batches_to_process(columns) -%}
    select {{ columns | join(', ') }}
    from {{ source('braze_currents', 'currents_batches') }}
    where {{ braze_currents__new_loads() }}
{%- endmacro %}
