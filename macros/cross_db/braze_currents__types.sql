{#- The engine's type for a catalogue type name (the `data_type` of the yml columns of the
    typed models: VARCHAR, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP, JSON), in one place: dbt's own
    type_* macros where they exist, but DOUBLE is `double` (dbt's type_float() is `float`, 32 bits
    on both engines); JSON is DuckDB's JSON type and Spark's string. -#}
{% macro braze_currents__type(name) -%}
    {%- set t = name | upper -%}
    {%- if t == 'VARCHAR' -%}{{ dbt.type_string() }}
    {%- elif t == 'BIGINT' -%}{{ dbt.type_bigint() }}
    {%- elif t == 'DOUBLE' -%}double
    {%- elif t == 'BOOLEAN' -%}{{ dbt.type_boolean() }}
    {%- elif t == 'TIMESTAMP' -%}{{ dbt.type_timestamp() }}
    {%- elif t == 'INTEGER' -%}{{ dbt.type_int() }}
    {%- elif t == 'JSON' -%}{{ adapter.dispatch('braze_currents__type_json', 'braze_currents')() }}
    {%- else -%}{{ exceptions.raise_compiler_error("braze_currents__type: unknown catalogue type " ~ name) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__braze_currents__type_json() -%}json{%- endmacro %}

{% macro spark__braze_currents__type_json() -%}string{%- endmacro %}
