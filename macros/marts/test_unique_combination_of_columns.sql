{#- Generic test: no two rows share the values of `combination_of_columns` (NULLs compare equal,
    as in GROUP BY), i.e. the columns together are the grain of the model. Fails with one row
    per repeated combination. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as rows_with_these_values
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
