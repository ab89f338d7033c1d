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

{#- The distinct values of `expr` where `condition` holds, as a sorted array; NULL (not an
    empty array) when there is none. -#}
{% macro braze_currents__array_agg_distinct_sorted(expr, condition='true') -%}
    {{- return(adapter.dispatch('braze_currents__array_agg_distinct_sorted', 'braze_currents')(expr, condition)) -}}
{%- endmacro %}

{% macro default__braze_currents__array_agg_distinct_sorted(expr, condition) -%}
    list(distinct {{ expr }} order by {{ expr }}) filter (where ({{ condition }}) and {{ expr }} is not null)
{%- endmacro %}

{% macro spark__braze_currents__array_agg_distinct_sorted(expr, condition) -%}
    case when count(case when {{ condition }} then {{ expr }} end) > 0
        then array_sort(collect_set(case when {{ condition }} then {{ expr }} end))
    end
{%- endmacro %}

{#- `value` of the row with the largest `ordering` among the rows where `value` is not NULL
    (DuckDB's arg_max; Spark's max_by keeps a NULL value, so they are left out). Ties: any. -#}
{% macro braze_currents__max_by_not_null(value, ordering) -%}
    {{- return(adapter.dispatch('braze_currents__max_by_not_null', 'braze_currents')(value, ordering)) -}}
{%- endmacro %}

{% macro default__braze_currents__max_by_not_null(value, ordering) -%}
    arg_max({{ value }}, {{ ordering }})
{%- endmacro %}

{% macro spark__braze_currents__max_by_not_null(value, ordering) -%}
    max_by({{ value }}, case when {{ value }} is not null then {{ ordering }} end)
{%- endmacro %}

{#- Several expressions as one value that orders by the first, then the second, ...: for the
    `ordering` of max_by/min_by (DuckDB compares row values, Spark structs, field by field). -#}
{% macro braze_currents__ordering(expressions) -%}
    {{- return(adapter.dispatch('braze_currents__ordering', 'braze_currents')(expressions)) -}}
{%- endmacro %}

{% macro default__braze_currents__ordering(expressions) -%}
    ({{ expressions | join(', ') }})
{%- endmacro %}

{% macro spark__braze_currents__ordering(expressions) -%}
    struct({{ expressions | join(', ') }})
{%- endmacro %}

{#- The discrete quantile `fraction` of `expr` (an aggregate): the smallest value with at
    least that fraction of the values at or below it (DuckDB's quantile_disc; on Spark the
    element of the sorted values at ceil(n * fraction), which is what DuckDB returns). -#}
{% macro braze_currents__quantile_disc(expr, fraction) -%}
    {{- return(adapter.dispatch('braze_currents__quantile_disc', 'braze_currents')(expr, fraction)) -}}
{%- endmacro %}

{% macro default__braze_currents__quantile_disc(expr, fraction) -%}
    quantile_disc({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro spark__braze_currents__quantile_disc(expr, fraction) -%}
    element_at(
        array_sort(collect_list({{ expr }})),
        greatest(cast(ceil(count({{ expr }}) * {{ fraction }}) as int), 1)
    )
{%- endmacro %}

{#- The median of `expr` as a DOUBLE (the mean of the two middle values of an even count). -#}
{% macro braze_currents__median(expr) -%}
    {{- return(adapter.dispatch('braze_currents__median', 'braze_currents')(expr)) -}}
{%- endmacro %}

{% macro default__braze_currents__median(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro spark__braze_currents__median(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}
