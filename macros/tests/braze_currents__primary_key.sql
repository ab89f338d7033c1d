{#- A primary key: no NULL and no value twice, in one scan (dbt's `unique` and `not_null` are
    two tests, two nodes and two scans). One row per offending value; NULL counts as one. -#}
{% test braze_currents__primary_key(model, column_name) %}

select
    {{ column_name }} as key_value,
    count(*) as rows_with_key
from {{ model }}
group by {{ column_name }}
having {{ column_name }} is null or count(*) > 1

{% endtest %}
