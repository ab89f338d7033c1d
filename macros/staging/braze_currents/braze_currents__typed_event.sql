{#- The body of every typed staging model (one per Currents event type), and what the tests
    of those models need to know about the catalogue.

    A typed model reads its own yml (the catalogue): `config.meta.currents_event_type` says which
    events, and the columns say which fields and types. A column named like an envelope column
    comes from stg_braze_currents__events; every other column is the `properties` key of its
    name (or of `meta.json_key`), converted to its `data_type` by ONE from_json() per event:

    - a key that is missing (or JSON null) gives NULL;
    - a value DuckDB cannot convert to the type (text where a number belongs) gives NULL, and
      the `braze_currents__typed_values_convert` test counts it (a warning, not an error);
    - a key the catalogue does not know is not read, and stays in `properties`;
    - a second column on the same key (a typed companion such as `is_machine_open`, reading the
      text `machine_open`) is the first column's value cast to its own type, NULL when the
      text is not one DuckDB reads as that type. -#}

{#- The columns a typed model takes from stg_braze_currents__events as they are: the envelope,
    and the workspace and app (`app_group_id`, `app_id`: properties keys in Braze's payload,
    parsed once by the stream). Every typed model has `app_group_id`; a type whose payload has no
    such key lists it with `meta: {from_stream: true}` (braze_currents/catalog.py). -#}
{% macro braze_currents__envelope_columns() -%}
    {{ return(['event_id', 'event_type', 'event_at', 'external_user_id', 'braze_id',
               'device_id', 'timezone', 'app_group_id', 'app_id', 'properties', 'batch_id',
               'loaded_at']) }}
{%- endmacro %}

{#- The typed models of the catalogue, from the graph (models with meta.currents_event_type),
    by name. Only meaningful when `execute` is true: the graph is empty while dbt parses. -#}
{% macro braze_currents__typed_models() -%}
    {%- set nodes = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
            and (node.config.meta or {}).get('currents_event_type') -%}
            {%- do nodes.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(nodes | sort(attribute='name')) }}
{%- endmacro %}

{#- The graph node of a relation (what a generic test receives as `model`). -#}
{% macro braze_currents__node_of(relation) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
            and (node.alias or node.name) == relation.identifier
            and node.schema == relation.schema -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no model in the graph for relation " ~ relation) }}
{%- endmacro %}

{#- The catalogue entry of a typed model's graph node: its name, event type and columns
    (name, data_type, json_key), in yml order. -#}
{% macro braze_currents__catalogue_entry(node) -%}
    {%- set columns = [] -%}
    {%- for column in node.columns.values() -%}
        {%- do columns.append({
            'name': column.name,
            'data_type': column.data_type,
            'json_key': (column.meta or {}).get('json_key'),
        }) -%}
    {%- endfor -%}
    {{ return({
        'name': node.name,
        'event_type': (node.config.meta or {}).get('currents_event_type'),
        'columns': columns,
    }) }}
{%- endmacro %}

{#- The catalogue entry of the model being built. A dbt unit test renders the model's SQL
    with neither the graph nor the model's yml columns, so a unit test of a typed model gives
    the entry itself, in `overrides: {macros: {braze_currents__typed_entry: ...}}`. -#}
{% macro braze_currents__typed_entry() -%}
    {%- if model.resource_type == 'unit_test' -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ ": a unit test of a typed Currents model gives its catalogue entry in"
            ~ " overrides.macros.braze_currents__typed_entry (name, event_type, columns)") }}
    {%- endif -%}
    {{ return(braze_currents__catalogue_entry(model)) }}
{%- endmacro %}

{#- The properties fields of a catalogue entry, in yml order: column name, JSON key, data
    type, and whether an earlier column reads the same key (then this one is a typed
    companion). -#}
{% macro braze_currents__property_columns(entry) -%}
    {%- set fields = [] -%}
    {%- set keys = [] -%}
    {%- for column in entry.columns -%}
        {%- if column.name not in braze_currents__envelope_columns() -%}
            {%- set key = column.json_key or column.name -%}
            {%- if not column.data_type -%}
                {{ exceptions.raise_compiler_error(
                    entry.name ~ "." ~ column.name ~ ": a catalogue column needs a data_type") }}
            {%- endif -%}
            {%- do fields.append({
                'name': column.name,
                'key': key,
                'data_type': column.data_type | lower,
                'companion': key in keys,
            }) -%}
            {%- do keys.append(key) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(fields) }}
{%- endmacro %}

{#- The from_json() structure of a model's properties: each key once, typed as the first
    column that reads it. -#}
{% macro braze_currents__properties_spec(fields) -%}
    {%- set spec = {} -%}
    {%- for f in fields if not f.companion -%}
        {%- do spec.update({f.key: f.data_type | upper}) -%}
    {%- endfor -%}
    {{ return(tojson(spec)) }}
{%- endmacro %}

{#- The typed value of one properties field, read from the from_json() struct `struct`
    (built with braze_currents__properties_spec): a typed companion converts the value its
    key's first column holds. -#}
{% macro braze_currents__typed_value(f, struct='typed_properties') -%}
    {%- if f.companion -%}
        try_cast({{ struct }}.{{ adapter.quote(f.key) }} as {{ braze_currents__type(f.data_type) }})
    {%- else -%}
        {{ struct }}.{{ adapter.quote(f.key) }}
    {%- endif -%}
{%- endmacro %}

{#- A JSON path to one key of `properties`, quoted so any key is safe. -#}
{% macro braze_currents__json_path(key) -%}
    '$."{{ key | replace("'", "''") | replace('"', '\\"') }}"'
{%- endmacro %}

{% macro braze_currents__typed_event() -%}
{%- if not execute -%}
    {#- Parsing: the yml is not applied yet; only the dependency matters. -#}
    select * from {{ ref('stg_braze_currents__events') }}
    {%- do return('') -%}
{%- endif -%}
{%- set entry = braze_currents__typed_entry() -%}
{%- set event_type = entry.event_type -%}
{%- if not event_type -%}
    {{ exceptions.raise_compiler_error(
        entry.name ~ ": a typed Currents model needs config.meta.currents_event_type") }}
{%- endif -%}
{%- set fields = braze_currents__property_columns(entry) -%}
{%- set by_name = {} -%}
{%- for f in fields -%}{%- do by_name.update({f.name: f}) -%}{%- endfor -%}

with

events as (
    select *
    from {{ ref('stg_braze_currents__events') }}
    where event_type = {{ braze_currents__string_literal(event_type) }}
),

parsed as (
    select
        *
        {%- if fields %},
        {{ braze_currents__json_struct('properties', braze_currents__properties_spec(fields)) }} as typed_properties
        {%- endif %}
    from events
)

select
{%- for column in entry.columns | map(attribute='name') %}
    {%- set f = by_name.get(column) %}
    {%- if f is none %}
    {{ adapter.quote(column) }}
    {%- else %}
    {{ braze_currents__typed_value(f) }} as {{ adapter.quote(column) }}
    {%- endif %}
    {{- "," if not loop.last }}
{%- endfor %}
from parsed
{%- endmacro %}
