{#- Models land in the schema named by their folder config (staging, marts, ...), not in
    "<target schema>_<custom schema>", so analysts query `marts.fct_message_engagement`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
