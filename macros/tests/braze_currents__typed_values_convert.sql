{#- Schema drift, kind 1: values of the wrong JSON type. For each typed column of a typed
    Currents model whose conversion can fail (numbers, booleans, timestamps; text and JSON
    always convert), it counts the events whose `properties` hold a value for the column's key
    but whose typed column is NULL, i.e. the value could not be converted (text where a number
    belongs). One row per such column, with the count and an example; the test's failure count
    is the number of such values. It warns: the event is kept, the value stays in `properties`.

    Apply it to the `properties` column of a typed model; it reads the model's catalogue
    columns from the graph. One scan of the model. -#}
{% test braze_currents__typed_values_convert(model, column_name='properties') %}
{{ config(severity='warn', fail_calc='coalesce(sum(wrong_typed_values), 0)') }}
{%- set node = braze_currents__node_of(model) if execute else none -%}
{%- set checked = [] -%}
{%- if execute -%}
    {%- for f in braze_currents__property_columns(braze_currents__catalogue_entry(node))
        if f.data_type not in ('varchar', 'text', 'string', 'json') -%}
        {%- do checked.append(f) -%}
    {%- endfor -%}
{%- endif %}

{%- if checked %}

with

per_column as (
    select
        unnest([
        {%- for f in checked %}
            {%- set present -%}
                json_type({{ column_name }}, {{ braze_currents__json_path(f.key) }}) <> 'NULL'
                and {{ adapter.quote(f.name) }} is null
            {%- endset %}
            {
                column_name: '{{ f.name }}',
                json_key: '{{ f.key }}',
                data_type: '{{ f.data_type }}',
                wrong_typed_values: count(*) filter (where {{ present }}),
                example_value: any_value(
                    {{ column_name }} ->> {{ braze_currents__json_path(f.key) }}
                ) filter (where {{ present }})
            }{{ "," if not loop.last }}
        {%- endfor %}
        ]) as c
    from {{ model }}
)

select
    c.column_name,
    c.json_key,
    c.data_type,
    c.wrong_typed_values,
    c.example_value
from per_column
where c.wrong_typed_values > 0

{%- else %}

{#- No column of this model can fail to convert: nothing to count. #}
select
    null as column_name,
    null as json_key,
    null as data_type,
    0 as wrong_typed_values,
    null as example_value
where false

{%- endif %}
{% endtest %}
