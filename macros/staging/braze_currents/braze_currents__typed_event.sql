{#- The body of every typed staging model (one per Currents event type).

    It reads the model's own yml: `config.meta.currents_event_type` says which events, and the
    columns say which fields and types. A column named like an envelope column comes from
    stg_braze_currents__events; every other column is the `properties` key of its name (or
    `meta.json_key`), converted to its `data_type` in one parse of `properties`. A value that
    cannot be converted (text where a number belongs) is NULL; the
    `braze_currents__typed_values_convert` test counts such values. -#}

{% macro braze_currents__envelope_columns() -%}
    {{ return(['event_id', 'event_type', 'event_at', 'external_user_id', 'braze_id',
               'device_id', 'timezone', 'properties', 'batch_id', 'loaded_at']) }}
{%- endmacro %}

{#- (column name, json key, data type) of the model's properties fields, in yml order. -#}
{% macro braze_currents__property_columns(node) -%}
    {%- set fields = [] -%}
    {%- for column in node.columns.values() -%}
        {%- if column.name not in braze_currents__envelope_columns() -%}
            {%- do fields.append({
                'name': column.name,
                'key': (column.meta or {}).get('json_key', column.name),
                'data_type': column.data_type,
            }) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(fields) }}
{%- endmacro %}

{#- The from_json structure of a model's properties: one entry per key, typed as the first
    column reading it. -#}
{% macro braze_currents__properties_spec(fields) -%}
    {%- set spec = {} -%}
    {%- for f in fields if f.key not in spec -%}
        {%- do spec.update({f.key: f.data_type | upper}) -%}
    {%- endfor -%}
    {{ return(tojson(spec)) }}
{%- endmacro %}

{% macro braze_currents__typed_event() -%}
{%- if not execute -%}
    {#- Parsing: the yml is not applied yet; only the dependency matters. -#}
    select * from {{ ref('stg_braze_currents__events') }}
    {%- do return('') -%}
{%- endif -%}
{%- set event_type = model.config.meta.currents_event_type -%}
{%- if not event_type -%}
    {{ exceptions.raise_compiler_error(
        model.name ~ ": a typed Currents model needs config.meta.currents_event_type") }}
{%- endif -%}
{%- set fields = braze_currents__property_columns(model) -%}
{%- set declared = model.columns.keys() | list -%}
{%- set spec = braze_currents__properties_spec(fields) -%}
{%- set first_type = {} -%}

with

events as (
    select *
    from {{ ref('stg_braze_currents__events') }}
    where event_type = '{{ event_type }}'
),

parsed as (
    select
        *,
        {%- if fields %}
        from_json(properties, '{{ spec }}') as typed_properties
        {%- else %}
        null as typed_properties
        {%- endif %}
    from events
)

select
    {%- for column in declared %}
    {%- if column in braze_currents__envelope_columns() %}
    {{ adapter.quote(column) }}
    {%- else %}
    {%- set f = (fields | selectattr('name', 'equalto', column) | first) %}
    {%- if f.key in first_type %}
    try_cast(typed_properties.{{ adapter.quote(f.key) }} as {{ f.data_type }}) as {{ adapter.quote(column) }}
    {%- else %}
    {%- do first_type.update({f.key: f.data_type}) %}
    typed_properties.{{ adapter.quote(f.key) }} as {{ adapter.quote(column) }}
    {%- endif %}
    {%- endif %}
    {{- "," if not loop.last }}
    {%- endfor %}
from parsed
{%- endmacro %}
