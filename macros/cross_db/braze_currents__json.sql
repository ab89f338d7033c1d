{#- JSON read the same way on every engine: DuckDB's from_json() conversions are the reference
    (the typed models were built on them), and the Spark versions reproduce them.

    Spark's from_json() with a typed schema gives NULL for a number or a boolean held as text
    ("7.0", "false") where DuckDB converts it, and cannot tell `"7"` from `7`. So on Spark each
    field is read as text (from_json with every leaf a string: numbers and objects keep the text
    they were written with) and its JSON kind comes from parse_json() (Spark 4's VARIANT), then
    both are converted by DuckDB's rules (braze_currents__json_convert). Needs Spark 4.0 or
    Databricks Runtime 15.3 or newer. -#}

{#- A struct of the JSON object `json_expr` with the keys and types of `spec`, a dict (or its
    JSON text) of key -> type name (VARCHAR, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP, JSON) or a
    nested dict; a missing key or JSON null gives NULL, a value the type cannot hold NULL.
    Fields are read as `struct.key` on every engine. -#}
{% macro braze_currents__json_struct(json_expr, spec) -%}
    {%- set spec = fromjson(spec) if spec is string else spec -%}
    {{- return(adapter.dispatch('braze_currents__json_struct', 'braze_currents')(json_expr, spec)) -}}
{%- endmacro %}

{% macro default__braze_currents__json_struct(json_expr, spec) -%}
    from_json({{ json_expr }}, {{ braze_currents__string_literal(tojson(spec)) }})
{%- endmacro %}

{#- The text and the VARIANT of the JSON are parsed once, and each field reads them through a
    lambda variable (`element_at(transform(array(...), parsed -> ...), 1)`): written field by
    field, the SQL would repeat both parses for every field, and a view of a wide typed model
    would outgrow what a Hive metastore stores of a view's text. -#}
{% macro spark__braze_currents__json_struct(json_expr, spec) -%}
    element_at(transform(
        array(named_struct(
            'text', from_json({{ json_expr }}, '{{ braze_currents__spark_text_schema(spec) }}'),
            'variant', try_parse_json({{ json_expr }})
        )),
        json_parsed -> {{ braze_currents__spark_named_struct(spec, 'json_parsed.text', 'json_parsed.variant', '$') }}
    ), 1)
{%- endmacro %}

{#- One value of a JSON object, by key, as `data_type` (the rules of braze_currents__json_struct). -#}
{% macro braze_currents__json_value(json_expr, key, data_type) -%}
    {{- return(braze_currents__json_struct(json_expr, {key: data_type}) ~ '.' ~ adapter.quote(key)) -}}
{%- endmacro %}

{#- Spark: the from_json() schema that reads every leaf of `spec` as text. -#}
{% macro braze_currents__spark_text_schema(spec) -%}
    {%- set fields = [] -%}
    {%- for key, type in spec.items() -%}
        {%- set inner = braze_currents__spark_text_schema(type) if type is mapping else 'string' -%}
        {%- do fields.append('`' ~ key ~ '`: ' ~ inner) -%}
    {%- endfor -%}
    struct<{{ fields | join(', ') }}>
{%- endmacro %}

{% macro braze_currents__spark_named_struct(spec, text, variant, path) -%}
    named_struct(
    {%- for key, type in spec.items() -%}
        {%- set key_text = text ~ '.`' ~ key ~ '`' -%}
        {%- set key_path = path ~ "['" ~ key ~ "']" -%}
        '{{ key }}', {% if type is mapping -%}
            {{ braze_currents__spark_named_struct(type, key_text, variant, key_path) }}
        {%- else -%}
            {{ braze_currents__spark_json_convert(key_text, 'schema_of_variant(variant_get(' ~ variant ~ ', ' ~ braze_currents__string_literal(key_path) ~ '))', type) }}
        {%- endif -%}{{ ', ' if not loop.last }}
    {%- endfor -%}
    )
{%- endmacro %}

{#- Spark: the value of one JSON field as DuckDB's from_json() converts it to `data_type`, from
    its text (`text`: a string is unquoted, anything else as written) and its kind (`kind`: the
    schema_of_variant() of the value: STRING, BOOLEAN, BIGINT, DECIMAL(p,s), DOUBLE, OBJECT<..>,
    ARRAY<..>, VOID for null). DuckDB's rules, measured: a number to BIGINT is rounded half away
    from zero; true/false are 1/0 and 1.0/0.0; a string is cast (trimmed; "7.5" -> 8, "1e3" ->
    1000); a number to BOOLEAN is `<> 0`; a string to BOOLEAN is true for t/true/y/yes/1 and
    false for f/false/n/no/0; a string to TIMESTAMP drops any UTC offset; objects and arrays give
    NULL for every type but VARCHAR and JSON, which keep their text. Out of BIGINT's range is
    NULL (Spark's cast would wrap around). -#}
{% macro braze_currents__spark_json_convert(text, kind, data_type) -%}
    {%- set t = data_type | upper -%}
    {%- set k = 'upper(' ~ kind ~ ')' -%}
    {%- set number = "(" ~ k ~ " rlike '^(BIGINT|INT|SMALLINT|TINYINT|DECIMAL|DOUBLE|FLOAT)')" -%}
    {%- if t in ('BIGINT', 'INTEGER', 'INT') -%}
        case
            when {{ k }} = 'BOOLEAN' then cast(case when {{ text }} = 'true' then 1 else 0 end as bigint)
            when {{ k }} = 'STRING' or {{ number }} then case
                when abs(round(cast(trim({{ text }}) as decimal(38, 9)), 0)) <= 9223372036854775807
                    then cast(round(cast(trim({{ text }}) as decimal(38, 9)), 0) as bigint)
            end
        end
    {%- elif t == 'DOUBLE' -%}
        case
            when {{ k }} = 'BOOLEAN' then case when {{ text }} = 'true' then 1.0d else 0.0d end
            when {{ k }} = 'STRING' or {{ number }} then cast(trim({{ text }}) as double)
        end
    {%- elif t == 'BOOLEAN' -%}
        case
            when {{ k }} = 'BOOLEAN' then {{ text }} = 'true'
            when {{ number }} then cast({{ text }} as double) <> 0
            when {{ k }} = 'STRING' then cast(trim({{ text }}) as boolean)
        end
    {%- elif t == 'TIMESTAMP' -%}
        case when {{ k }} = 'STRING' then cast(cast(trim({{ text }}) as timestamp_ntz) as timestamp) end
    {%- elif t == 'VARCHAR' -%}
        {{ text }}
    {%- elif t == 'JSON' -%}
        case
            when {{ k }} = 'STRING'
                then substring(to_json(array({{ text }})), 2, length(to_json(array({{ text }}))) - 2)
            else {{ text }}
        end
    {%- else -%}
        {{ exceptions.raise_compiler_error("braze_currents__json_struct: no Spark rule for type " ~ data_type) }}
    {%- endif -%}
{%- endmacro %}

{#- The elements of a JSON array, each as its JSON text (objects, numbers) or, for a string,
    its unquoted text; NULL when `json_expr` is not an array. -#}
{% macro braze_currents__json_array_elements(json_expr) -%}
    {{- return(adapter.dispatch('braze_currents__json_array_elements', 'braze_currents')(json_expr)) -}}
{%- endmacro %}

{% macro default__braze_currents__json_array_elements(json_expr) -%}
    from_json({{ json_expr }}, '["VARCHAR"]')
{%- endmacro %}

{% macro spark__braze_currents__json_array_elements(json_expr) -%}
    from_json({{ json_expr }}, 'array<string>')
{%- endmacro %}

{#- The keys of a JSON object, in the order written; NULL when it is not an object. -#}
{% macro braze_currents__json_keys(json_expr) -%}
    {{- return(adapter.dispatch('braze_currents__json_keys', 'braze_currents')(json_expr)) -}}
{%- endmacro %}

{% macro default__braze_currents__json_keys(json_expr) -%}
    case
        when {{ braze_currents__json_type(json_expr) }} = 'OBJECT' then json_keys({{ json_expr }})
    end
{%- endmacro %}

{% macro spark__braze_currents__json_keys(json_expr) -%}
    json_object_keys({{ json_expr }})
{%- endmacro %}
