{#- Join keywords and CTE hints each engine writes its own way. -#}

{#- The rows of the left side with no match on the right: `from a {{ braze_currents__anti_join() }} b
    on ...` (DuckDB's ANTI JOIN, Spark's LEFT ANTI JOIN; NULL keys never match). -#}
{% macro braze_currents__anti_join() -%}
    {{- return(adapter.dispatch('braze_currents__anti_join', 'braze_currents')()) -}}
{%- endmacro %}

{% macro default__braze_currents__anti_join() -%}anti join{%- endmacro %}

{% macro spark__braze_currents__anti_join() -%}left anti join{%- endmacro %}

{#- The rows of the left side with a match on the right, each once (SEMI JOIN). -#}
{% macro braze_currents__semi_join() -%}
    {{- return(adapter.dispatch('braze_currents__semi_join', 'braze_currents')()) -}}
{%- endmacro %}

{% macro default__braze_currents__semi_join() -%}semi join{%- endmacro %}

{% macro spark__braze_currents__semi_join() -%}left semi join{%- endmacro %}

{#- `name as {{ braze_currents__materialized() }} (...)`: DuckDB computes the CTE once (its
    readers would otherwise each evaluate it again); Spark has no such hint and needs none. -#}
{% macro braze_currents__materialized() -%}
    {{- return(adapter.dispatch('braze_currents__materialized', 'braze_currents')()) -}}
{%- endmacro %}

{% macro default__braze_currents__materialized() -%}materialized{%- endmacro %}

{% macro spark__braze_currents__materialized() -%}{%- endmacro %}
