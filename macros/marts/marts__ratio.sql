{#- A ratio that is NULL where its denominator is 0 or NULL, on every engine: DuckDB gives
    `inf` for x / 0 and Postgres or Spark raise or divide integers to an integer, so the
    numerator is cast to double and the denominator guarded. Engine-specific versions go in
    `<adapter>__marts__ratio`. -#}
{% macro marts__ratio(numerator, denominator) -%}
    {{ return(adapter.dispatch('marts__ratio', 'braze_currents')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__marts__ratio(numerator, denominator) -%}
    cast({{ numerator }} as double precision) / nullif({{ denominator }}, 0)
{%- endmacro %}

{% macro spark__marts__ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif({{ denominator }}, 0)
{%- endmacro %}

{% macro duckdb__marts__ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif({{ denominator }}, 0)
{%- endmacro %}
