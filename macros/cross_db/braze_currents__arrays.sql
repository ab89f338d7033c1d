{#- Arrays (DuckDB lists) on every engine. `lambda_var` names the element in `expr`. -#}

{#- The number of elements; NULL for NULL (Spark's size() gives -1 for NULL unless ANSI mode
    is on, and dbt-spark turns ANSI mode off). -#}
{% macro braze_currents__array_length(array) -%}
    {{- return(adapter.dispatch('braze_currents__array_length', 'braze_currents')(array)) -}}
{%- endmacro %}

{% macro default__braze_currents__array_length(array) -%}
    len({{ array }})
{%- endmacro %}

{% macro spark__braze_currents__array_length(array) -%}
    array_size({{ array }})
{%- endmacro %}

{#- The elements for which `predicate` (an expression of `lambda_var`) is true, in order. -#}
{% macro braze_currents__array_filter(array, lambda_var, predicate) -%}
    {{- return(adapter.dispatch('braze_currents__array_filter', 'braze_currents')(array, lambda_var, predicate)) -}}
{%- endmacro %}

{% macro default__braze_currents__array_filter(array, lambda_var, predicate) -%}
    list_filter({{ array }}, lambda {{ lambda_var }}: {{ predicate }})
{%- endmacro %}

{% macro spark__braze_currents__array_filter(array, lambda_var, predicate) -%}
    filter({{ array }}, {{ lambda_var }} -> {{ predicate }})
{%- endmacro %}

{#- Each element mapped through `expr` (an expression of `lambda_var`), in order. -#}
{% macro braze_currents__array_transform(array, lambda_var, expr) -%}
    {{- return(adapter.dispatch('braze_currents__array_transform', 'braze_currents')(array, lambda_var, expr)) -}}
{%- endmacro %}

{% macro default__braze_currents__array_transform(array, lambda_var, expr) -%}
    list_transform({{ array }}, lambda {{ lambda_var }}: {{ expr }})
{%- endmacro %}

{% macro spark__braze_currents__array_transform(array, lambda_var, expr) -%}
    transform({{ array }}, {{ lambda_var }} -> {{ expr }})
{%- endmacro %}

{#- A FROM-clause item: one row per element of `array` (an expression of the relation before
    it), with the element as `value_name` and its position, from 1, as `index_name`; no row for
    an empty or NULL array. Write it after the relation: `from batches {{ ...(...) }}`. -#}
{% macro braze_currents__unnest_with_index(array, alias, value_name='value', index_name='idx') -%}
    {{- return(adapter.dispatch('braze_currents__unnest_with_index', 'braze_currents')(array, alias, value_name, index_name)) -}}
{%- endmacro %}

{% macro default__braze_currents__unnest_with_index(array, alias, value_name, index_name) -%}
    cross join unnest({{ array }}) with ordinality as {{ alias }} ({{ value_name }}, {{ index_name }})
{%- endmacro %}

{% macro spark__braze_currents__unnest_with_index(array, alias, value_name, index_name) -%}
    cross join lateral (
        select p.pos + 1 as {{ index_name }}, p.col as {{ value_name }}
        from posexplode({{ array }}) as p
    ) as {{ alias }}
{%- endmacro %}

{#- The element at `position`, counted from 1 (DuckDB's lists count from 1, Spark's arrays
    from 0 with [], from 1 with element_at); NULL beyond the end. -#}
{% macro braze_currents__array_element(array, position) -%}
    {{- return(adapter.dispatch('braze_currents__array_element', 'braze_currents')(array, position)) -}}
{%- endmacro %}

{% macro default__braze_currents__array_element(array, position) -%}
    ({{ array }})[{{ position }}]
{%- endmacro %}

{% macro spark__braze_currents__array_element(array, position) -%}
    element_at({{ array }}, {{ position }})
{%- endmacro %}
