{#- Schema drift, kind 1: values of the wrong JSON type, for every typed Currents model in one
    test. For each typed column whose conversion can fail (numbers, booleans, timestamps; text
    and JSON always convert) it counts the events whose `properties` hold a value for the
    column's key that does not convert to the column's type (text where a number belongs): the
    typed model shows NULL there. One row per such model and column, with the count and an
    example; the failure count is the number of such values. It warns: the event is kept and
    the value stays in `properties`.

    Apply it to the `properties` column of the event stream. The catalogue comes from the
    graph, and the conversion is the typed models' own (braze_currents__typed_value), applied to
    the stream: one test node and one pass instead of one test per model. It reads the events
    of braze_currents__test_scope() (the latest run's). -#}
{% test braze_currents__typed_values_convert(model, column_name='properties') %}
{{ config(severity='warn', fail_calc='coalesce(sum(wrong_typed_values), 0)') }}
{%- set checks = [] -%}
{%- if execute -%}
    {%- for node in braze_currents__typed_models() -%}
        {%- set fields = braze_currents__property_columns(braze_currents__catalogue_entry(node)) -%}
        {%- set checked = [] -%}
        {%- for f in fields if f.data_type not in ('varchar', 'text', 'string', 'json') -%}
            {%- do checked.append(f) -%}
        {%- endfor -%}
        {%- if checked -%}
            {%- do checks.append({
                'model': node.name,
                'event_type': node.config.meta.currents_event_type,
                'fields': fields,
                'checked': checked,
            }) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

with

scoped as (
    select
        event_type,
        {{ column_name }} as properties
    from {{ model }}
    where {{ braze_currents__test_scope() }}
),

{%- for c in checks %}
{%- set raw_spec = {} -%}
{%- for f in c.checked -%}{%- do raw_spec.update({f.key: 'JSON'}) -%}{%- endfor %}

model_{{ loop.index }} as (
    select
        unnest([
        {%- for f in c.checked %}
            {%- set wrong -%}
                raw.{{ adapter.quote(f.key) }} is not null
                and {{ braze_currents__typed_value(f) }} is null
            {%- endset %}
            {
                model_name: '{{ c.model }}',
                column_name: '{{ f.name }}',
                json_key: '{{ f.key | replace("'", "''") }}',
                data_type: '{{ f.data_type }}',
                wrong_typed_values: count(*) filter (where {{ wrong }}),
                example_value: any_value(raw.{{ adapter.quote(f.key) }}::varchar)
                    filter (where {{ wrong }})
            }{{ "," if not loop.last }}
        {%- endfor %}
        ], recursive := true)
    from (
        select
            from_json(
                properties,
                '{{ braze_currents__properties_spec(c.fields) | replace("'", "''") }}'
            ) as typed_properties,
            from_json(properties, '{{ tojson(raw_spec) | replace("'", "''") }}') as raw
        from scoped
        where event_type = '{{ c.event_type | replace("'", "''") }}'
    )
),
{%- endfor %}

per_column as (
    {%- for c in checks %}
    select * from model_{{ loop.index }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- if not checks %}
    select
        null::varchar as model_name,
        null::varchar as column_name,
        null::varchar as json_key,
        null::varchar as data_type,
        0 as wrong_typed_values,
        null::varchar as example_value
    where false
    {%- endif %}
)

select
    model_name,
    column_name,
    json_key,
    data_type,
    wrong_typed_values,
    example_value
from per_column
where wrong_typed_values > 0

{% endtest %}
