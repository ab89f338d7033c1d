{#- `value` of the row with the largest (smallest) `ordering`, as an aggregate: rows whose
    `ordering` is NULL are ignored, and a NULL `value` of that row is returned as NULL (DuckDB's
    arg_max skips rows whose value is NULL; arg_max_null is Spark's max_by). Ties: any row of
    the tie, on every engine: order by a unique key too where the result must be stable. -#}
{% macro braze_currents__max_by(value, ordering) -%}
    {{- return(adapter.dispatch('braze_currents__max_by', 'braze_currents')(value, ordering)) -}}
{%- endmacro %}

{% macro default__braze_currents__max_by(value, ordering) -%}
    arg_max_null({{ value }}, {{ ordering }})
{%- endmacro %}

{% macro spark__braze_currents__max_by(value, ordering) -%}
    max_by({{ value }}, {{ ordering }})
{%- endmacro %}

{% macro braze_currents__min_by(value, ordering) -%}
    {{- return(adapter.dispatch('braze_currents__min_by', 'braze_currents')(value, ordering)) -}}
{%- endmacro %}

{% macro default__braze_currents__min_by(value, ordering) -%}
    arg_min_null({{ value }}, {{ ordering }})
{%- endmacro %}

{% macro spark__braze_currents__min_by(value, ordering) -%}
    min_by({{ value }}, {{ ordering }})
{%- endmacro %}

{#- The values of `expr` as a sorted array (an aggregate): DuckDB's list(... order by) and
    Spark's array_sort(collect_list(...)); NULLs are left out on both. -#}
{% macro braze_currents__array_agg_sorted(expr) -%}
    {{- return(adapter.dispatch('braze_currents__array_agg_sorted', 'braze_currents')(expr)) -}}
{%- endmacro %}

{% macro default__braze_currents__array_agg_sorted(expr) -%}
    list({{ expr }} order by {{ expr }}) filter (where {{ expr }} is not null)
{%- endmacro %}

{% macro spark__braze_currents__array_agg_sorted(expr) -%}
    array_sort(collect_list({{ expr }}))
{%- endmacro %}

{#- The distinct values of `expr` (NULLs left out), sorted, joined by `separator` (a Jinja
    string), as an aggregate: DuckDB's string_agg(distinct ... order by ...), Spark's
    array_join(array_sort(collect_set(...))). -#}
{% macro braze_currents__string_agg_distinct(expr, separator) -%}
    {{- return(adapter.dispatch('braze_currents__string_agg_distinct', 'braze_currents')(expr, separator)) -}}
{%- endmacro %}

{% macro default__braze_currents__string_agg_distinct(expr, separator) -%}
    string_agg(distinct {{ expr }}, {{ braze_currents__string_literal(separator) }} order by {{ expr }})
{%- endmacro %}

{% macro spark__braze_currents__string_agg_distinct(expr, separator) -%}
    array_join(array_sort(collect_set({{ expr }})), {{ braze_currents__string_literal(separator) }})
{%- endmacro %}
