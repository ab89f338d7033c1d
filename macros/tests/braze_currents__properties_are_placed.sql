{#- Values of `properties` that could not be placed, one row per event: a Custom HTTP event
    whose `properties` is neither an object nor JSON text holding one, or a flat event whose
    `properties` text holds no JSON object (kept as it came, under the catalogue's field, else
    under `properties`). The event is kept in the stream, its typed columns from `properties`
    are NULL or hold that raw value: the warning says where. Apply it to the `properties`
    column of the event stream. It reads the events of braze_currents__test_scope(). -#}
{% test braze_currents__properties_are_placed(model, column_name='properties') %}
{{ config(severity='warn') }}
{%- set field = braze_currents__storage_field('event_type') %}

with

checked as (
    select
        event_id,
        event_type,
        event_at,
        {{ column_name }} as properties,
        case
            when json_type({{ column_name }}) is distinct from 'OBJECT'
                then 'properties is ' || coalesce(lower(json_type({{ column_name }})), 'missing')
                    || ', not an object'
            when json_type({{ column_name }}, '$.properties') = 'VARCHAR'
                then 'the properties text holds no JSON object'
            when
                {{ field }} is not null
                and json_type(
                    json_extract({{ column_name }}, '$."' || {{ field }} || '"')
                ) not in ('OBJECT', 'NULL')
                then {{ field }} || ' is not an object'
        end as reason
    from {{ model }}
    where {{ braze_currents__test_scope() }}
)

select
    event_id,
    event_type,
    event_at,
    reason,
    properties::varchar as properties
from checked
where reason is not null

{% endtest %}
