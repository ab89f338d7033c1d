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

{#- Whole seconds from `start` to `end` (TIMESTAMPs): the second boundaries crossed, as
    DuckDB's date_diff('second', ...) counts them (Spark's timestampdiff counts whole elapsed
    seconds instead). -#}
{% macro braze_currents__seconds_between(start, end) -%}
    {{- return(adapter.dispatch('braze_currents__seconds_between', 'braze_currents')(start, end)) -}}
{%- endmacro %}

{% macro default__braze_currents__seconds_between(start, end) -%}
    date_diff('second', {{ start }}, {{ end }})
{%- endmacro %}

{% macro spark__braze_currents__seconds_between(start, end) -%}
    (unix_seconds({{ end }}) - unix_seconds({{ start }}))
{%- endmacro %}

{#- Days from the DATE `start` to the DATE `end` (negative when `end` is earlier). -#}
{% macro braze_currents__days_between(start, end) -%}
    {{- return(adapter.dispatch('braze_currents__days_between', 'braze_currents')(start, end)) -}}
{%- endmacro %}

{% macro default__braze_currents__days_between(start, end) -%}
    date_diff('day', {{ start }}, {{ end }})
{%- endmacro %}

{% macro spark__braze_currents__days_between(start, end) -%}
    datediff({{ end }}, {{ start }})
{%- endmacro %}

{#- The TIMESTAMP `ts` plus `days` days (an integer expression), time of day kept. -#}
{% macro braze_currents__add_days(ts, days) -%}
    {{- return(adapter.dispatch('braze_currents__add_days', 'braze_currents')(ts, days)) -}}
{%- endmacro %}

{% macro default__braze_currents__add_days(ts, days) -%}
    ({{ ts }} + to_days({{ days }}))
{%- endmacro %}

{% macro spark__braze_currents__add_days(ts, days) -%}
    ({{ ts }} + make_dt_interval({{ days }}))
{%- endmacro %}

{#- A SELECT item: one row per day from the DATE `first_day` to the day before `end_day`,
    each as a DATE named `alias`. -#}
{% macro braze_currents__unnest_days(first_day, end_day, alias) -%}
    {{- return(adapter.dispatch('braze_currents__unnest_days', 'braze_currents')(first_day, end_day, alias)) -}}
{%- endmacro %}

{% macro default__braze_currents__unnest_days(first_day, end_day, alias) -%}
    cast(unnest(range({{ first_day }}, {{ end_day }}, interval 1 day)) as date) as {{ alias }}
{%- endmacro %}

{% macro spark__braze_currents__unnest_days(first_day, end_day, alias) -%}
    explode(sequence({{ first_day }}, date_sub({{ end_day }}, 1), interval 1 day)) as {{ alias }}
{%- endmacro %}
