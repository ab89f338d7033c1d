{#- A unique key, checked where new rows can break it: the keys of the rows in
    braze_currents__test_scope() (those of the loads the latest dbt run staged: what the run
    brought in or rebuilt) against EVERY row of the model. It fails with one row per key that a
    row in scope shares with any other row, old or new (`key_value`, `rows_with_key`); NULL
    keys are left to `not_null`, as dbt's `unique` does.

    What it guarantees: every run proves that no key it brought in repeats a key already in the
    model or another new key; rows that were already there were proven unique by the run that
    brought them. With the scope `all` (`--vars '{braze_currents_test_scope: all}'`), after a
    full refresh and on a first build, it checks every row, like `unique`. Only the new rows'
    keys are collected: the model's key column is read once and matched against them (a
    semi-join), and only the few matches are grouped, instead of a group-by over every key. It
    needs a column holding the row's load, or the newest load it summarises: `loaded_at`, or
    the one the argument `loaded_at` names. -#}
{% test braze_currents__unique_in_scope(model, column_name, loaded_at='loaded_at') %}
{%- set scope = braze_currents__test_scope(loaded_at) %}

select
    {{ column_name }} as key_value,
    count(*) as rows_with_key
from {{ model }}
{%- if scope == 'true' %}
where {{ column_name }} is not null
{%- else %}
{{ braze_currents__semi_join() }} (
    select {{ column_name }} as new_key
    from {{ model }}
    where {{ scope }}
) as in_scope on {{ column_name }} = in_scope.new_key
{%- endif %}
group by {{ column_name }}
having count(*) > 1

{% endtest %}
