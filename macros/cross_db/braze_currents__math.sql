{#- `numerator` / `denominator` as a DOUBLE; NULL when the denominator is 0 or NULL (DuckDB
    divides by zero to NULL, or +-inf for doubles, Spark to NULL). -#}
{% macro braze_currents__safe_divide(numerator, denominator) -%}
    {{- return(adapter.dispatch('braze_currents__safe_divide', 'braze_currents')(numerator, denominator)) -}}
{%- endmacro %}

{% macro default__braze_currents__safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{%- endmacro %}
