{#- The landed batches an incremental staging model still has to read: those of the loads
    newer than the newest load it holds (braze_currents__new_loads: exact, as the loader stamps
    loads in the order it loads them; a load that gave the model no row is read again, which
    adds nothing). Duplicates and late events are removed by the models themselves (by event
    id). A full refresh reads every batch. -#}
{% macro braze_currents__batches_to_process(columns) -%}
    select {{ columns | join(', ') }}
    from {{ source('braze_currents', 'currents_batches') }}
    where {{ braze_currents__new_loads() }}
{%- endmacro %}
