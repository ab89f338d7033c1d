{#- Seeds on Spark: an empty cell is NULL, as on DuckDB.

    dbt-spark's `session` method formats each value of a seed's INSERT into the SQL as quoted
    text, so an empty cell (None) is inserted as the text 'None': `funnel_stage` of an action
    outside the funnel would read 'None' on Spark and NULL on DuckDB. This is dbt-spark's
    `spark__load_csv_rows` with one change: an empty cell is written as a typed NULL literal,
    not bound. Root-project macros come first in dbt's dispatch, so it serves every Spark
    connection method (a NULL literal is right on all of them); the parity harness compares
    every seed's rows on both engines. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set batch_size = get_batch_size() -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set bindings = [] -%}
        {%- for row in chunk -%}
            {%- for value in row if value is not none -%}
                {%- do bindings.append(value) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- if value is none -%}
                        cast(null as {{ types[loop.index0] }})
                    {%- else -%}
                        cast({{ get_binding_char() }} as {{ types[loop.index0] }})
                    {%- endif -%}
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, bindings=bindings, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}
