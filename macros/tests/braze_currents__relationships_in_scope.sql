{#- dbt's `relationships` test (every value of the column, NULL aside, is a `field` of `to`),
    on the rows of braze_currents__test_scope(): those of the loads the latest dbt run staged.
    Each run checks that the rows it brought in point to existing rows of `to`, which is read
    whole; rows already there were checked by the run that brought them (the parents these
    tests name are never deleted). The scope `all` (`--vars '{braze_currents_test_scope:
    all}'`), a full refresh and a first build check every row, as `relationships` does. The
    model needs a `loaded_at` column. -#}
{% test braze_currents__relationships_in_scope(model, column_name, to, field) %}
{%- set scope = braze_currents__test_scope() %}
{%- set in_scope -%}
    (select * from {{ model }} where {{ scope }}) as in_scope
{%- endset %}
{{ adapter.dispatch('test_relationships', 'dbt')(in_scope, column_name, to, field) }}
{% endtest %}
