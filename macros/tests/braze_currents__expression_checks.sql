{#- The body of a cross-database test that evaluates SQL expressions: `checks` is a list of
    (name, SQL expression, expected text or none for NULL); each expression is cast to text and
    one row is returned per check whose value differs from the expected one. -#}
{% macro braze_currents__expression_checks(checks) -%}
{%- set s = dbt.type_string() -%}
with

checks as (
    {%- for name, expr, expected in checks %}
        select
            '{{ name }}' as check_name,
            cast({{ expr }} as {{ s }}) as actual,
            {{ braze_currents__string_literal(expected) if expected is not none
                else 'cast(null as ' ~ s ~ ')' }}
                as expected
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select *
from checks
where actual is distinct from expected
{%- endmacro %}
