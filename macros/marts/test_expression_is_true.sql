{#- Generic test: `expression` holds on every row (a row where it is false or NULL fails), e.g.
    `unique_openers <= opens`. On a column, the expression is still written out whole. -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
