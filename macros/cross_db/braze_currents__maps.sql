{#- Maps (DuckDB MAP, Spark map<>) built and read the same way on every engine. -#}

{#- An aggregate: the map of `key` to `value` over the rows of the group where `condition`
    holds (every row by default), its entries ordered by key (DuckDB keeps a map's order; Spark
    gives it the same one); NULL, not an empty map, when no row qualifies. Keys must be unique
    in the group and not NULL (group by them first). -#}
{% macro braze_currents__map_agg_sorted(key, value, condition='true') -%}
    {{- return(adapter.dispatch('braze_currents__map_agg_sorted', 'braze_currents')(key, value, condition)) -}}
{%- endmacro %}

{% macro default__braze_currents__map_agg_sorted(key, value, condition) -%}
    map_from_entries(
        list({ 'key': {{ key }}, 'value': {{ value }} } order by {{ key }})
        filter (where {{ condition }})
    )
{%- endmacro %}

{% macro spark__braze_currents__map_agg_sorted(key, value, condition) -%}
    {#- Sorted by key alone: a struct holding a map (a value) is not orderable on Spark. -#}
    case when count(case when {{ condition }} then 1 end) > 0 then map_from_entries(
        array_sort(
            collect_list(
                case when {{ condition }} then struct({{ key }} as key, {{ value }} as value) end
            ),
            (l, r) -> case when l.key < r.key then -1 when l.key > r.key then 1 else 0 end
        )
    ) end
{%- endmacro %}

{#- The value of `key` (a SQL expression) in the map `map`; NULL when the map lacks it
    (Spark in ANSI mode raises on a missing key with `map[key]`). -#}
{% macro braze_currents__map_get(map, key) -%}
    {{- return(adapter.dispatch('braze_currents__map_get', 'braze_currents')(map, key)) -}}
{%- endmacro %}

{% macro default__braze_currents__map_get(map, key) -%}
    ({{ map }})[{{ key }}]
{%- endmacro %}

{% macro spark__braze_currents__map_get(map, key) -%}
    try_element_at({{ map }}, {{ key }})
{%- endmacro %}

{#- The map `map` without its NULL values, the others rounded to `digits` decimals. -#}
{% macro braze_currents__map_round_values(map, digits) -%}
    {{- return(adapter.dispatch('braze_currents__map_round_values', 'braze_currents')(map, digits)) -}}
{%- endmacro %}

{% macro default__braze_currents__map_round_values(map, digits) -%}
    map_from_entries(
        list_transform(
            list_filter(map_entries({{ map }}), lambda entry: entry['value'] is not null),
            lambda entry: { 'key': entry['key'], 'value': round(entry['value'], {{ digits }}) }
        )
    )
{%- endmacro %}

{% macro spark__braze_currents__map_round_values(map, digits) -%}
    transform_values(
        map_filter({{ map }}, (k, v) -> v is not null), (k, v) -> round(v, {{ digits }})
    )
{%- endmacro %}
