{#- `numerator` / `denominator` as a DOUBLE; NULL when the denominator is 0 or NULL (DuckDB
    divides by zero to NULL, or +-inf for doubles, Spark to NULL). -#}
{% macro braze_currents__safe_divide(numerator, denominator) -%}
    {{- return(adapter.dispatch('braze_currents__safe_divide', 'braze_currents')(numerator, denominator)) -}}
{%- endmacro %}

{% macro default__braze_currents__safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{%- endmacro %}

{#- A bucket of `expr` (text) from 0 to `buckets` - 1, the same on every engine (from the
    first 8 hex digits of its MD5): for partitioning a table by a bucket of an entity key.
    NULL goes to the bucket of ''. -#}
{% macro braze_currents__bucket(expr, buckets) -%}
    {{- return(adapter.dispatch('braze_currents__bucket', 'braze_currents')(expr, buckets)) -}}
{%- endmacro %}

{% macro default__braze_currents__bucket(expr, buckets) -%}
    cast(('0x' || substr(md5(coalesce({{ expr }}, '')), 1, 8))::bigint % {{ buckets }} as integer)
{%- endmacro %}

{% macro spark__braze_currents__bucket(expr, buckets) -%}
    cast(pmod(cast(conv(substr(md5(coalesce({{ expr }}, '')), 1, 8), 16, 10) as bigint), {{ buckets }}) as int)
{%- endmacro %}
