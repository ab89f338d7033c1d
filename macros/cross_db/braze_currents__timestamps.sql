{#- A TIMESTAMP (UTC, microseconds) from a number of seconds since 1970 (fractions kept);
    NULL for NULL. The caller checks the range (braze_currents__is_usable_event). Microseconds
    are rounded (DuckDB rounds a double cast to BIGINT, Spark truncates: round() says which). -#}
{% macro braze_currents__timestamp_from_unix_seconds(seconds) -%}
    {{- return(adapter.dispatch('braze_currents__timestamp_from_unix_seconds', 'braze_currents')(seconds)) -}}
{%- endmacro %}

{% macro default__braze_currents__timestamp_from_unix_seconds(seconds) -%}
    make_timestamp(cast(round(cast({{ seconds }} as double) * 1000000) as bigint))
{%- endmacro %}

{% macro spark__braze_currents__timestamp_from_unix_seconds(seconds) -%}
    timestamp_micros(cast(round(cast({{ seconds }} as double) * 1000000) as bigint))
{%- endmacro %}
