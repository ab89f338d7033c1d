{#- Schema drift, kind 2: event types no typed model covers. Lists each event type of the
    model that no model of the catalogue (graph nodes with meta.currents_event_type) declares,
    with its number of events and when it was first and last seen. Such events stay in the
    event stream, with all their fields in `properties`; the warning says a typed model (a
    catalogue entry) is due. Apply it to the `event_type` column of the event stream. It reads
    the events of braze_currents__test_scope() (the latest run's): the counts and times are
    those of the events the run brought in. -#}
{% test braze_currents__catalogued_event_types(model, column_name='event_type') %}
{{ config(severity='warn') }}
{%- set catalogued = [] -%}
{%- if execute -%}
    {%- for node in braze_currents__typed_models() -%}
        {%- do catalogued.append(node.config.meta.currents_event_type) -%}
    {%- endfor -%}
    {%- if not catalogued -%}
        {{ exceptions.raise_compiler_error("no model declares meta.currents_event_type") }}
    {%- endif -%}
{%- endif %}

select
    {{ column_name }} as event_type,
    count(*) as events,
    min(event_at) as first_event_at,
    max(event_at) as last_event_at
from {{ model }}
where {{ braze_currents__test_scope() }} and {{ column_name }} not in (
    {%- for event_type in catalogued %}
    '{{ event_type | replace("'", "''") }}'{{ "," if not loop.last }}
    {%- endfor %}
    {%- if not catalogued %}''{% endif %}
)
group by {{ column_name }}

{% endtest %}
