{#- Schema drift, kind 3: fields the catalogue does not know yet. Lists each key of
    `properties` that the typed model of the event's type does not read, with the number of
    events that carry it, when it was first and last seen, and an example value. Such a key
    stays in `properties` and breaks nothing; the warning says a catalogue line is due (a field
    Braze announced). Event types without a typed model are left to
    `braze_currents__catalogued_event_types`. Apply it to the `properties` column of the event
    stream; the catalogue comes from the graph. It reads the events of
    braze_currents__test_scope() (the latest run's). -#}
{% test braze_currents__catalogued_properties(model, column_name='properties') %}
{{ config(severity='warn') }}
{%- set known = [] -%}
{%- if execute -%}
    {%- for node in braze_currents__typed_models() -%}
        {%- for f in braze_currents__property_columns(braze_currents__catalogue_entry(node)) if not f.companion -%}
            {%- do known.append((node.config.meta.currents_event_type, f.key)) -%}
        {%- endfor -%}
        {#- read by the event stream for every type (app_group_id, app_id) -#}
        {%- for key in braze_currents__stream_property_keys() -%}
            {%- do known.append((node.config.meta.currents_event_type, key)) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}

with

catalogue (event_type, json_key) as (
    values
    {%- for event_type, key in known %}
    ('{{ event_type | replace("'", "''") }}', '{{ key | replace("'", "''") }}')
    {{- "," if not loop.last }}
    {%- endfor %}
    {%- if not known %}
    (null, null)
    {%- endif %}
),

keyed as (
    select
        event_type,
        event_at,
        {{ column_name }} as properties,
        unnest(json_keys({{ column_name }})) as json_key
    from {{ model }}
    semi join (select distinct event_type from catalogue) as typed using (event_type)
    where {{ braze_currents__test_scope() }}
)

select
    event_type,
    json_key,
    count(*) as events,
    min(event_at) as first_event_at,
    max(event_at) as last_event_at,
    any_value(json_extract(properties, '$."' || json_key || '"'))::varchar as example_value
from keyed
anti join catalogue using (event_type, json_key)
group by event_type, json_key

{% endtest %}
