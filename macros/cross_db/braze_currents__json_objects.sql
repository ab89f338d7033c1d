{#- JSON values as text, their kinds and objects rebuilt, on every engine: what the event stream
    needs to read an envelope (macros/staging/braze_currents/braze_currents__event_envelope.sql).
    DuckDB's JSON functions are the reference. On Spark, a value's text is read with from_json()
    (numbers and objects keep the text they were written with) and its kind with parse_json()
    (VARIANT, Spark 4 / Databricks Runtime 15.3+), so that no number is rewritten ("7.0" stays
    "7.0"). Objects are JSON text on Spark, DuckDB's JSON type on DuckDB. -#}

{#- DuckDB's json_type() of a JSON text: OBJECT, ARRAY, VARCHAR, BIGINT, UBIGINT, DOUBLE,
    BOOLEAN, NULL (a JSON null); NULL for SQL NULL (and, on Spark, for text that is not JSON).
    An integer is UBIGINT from 0 to 2^64 - 1, BIGINT when negative within BIGINT's range, DOUBLE
    beyond; a number with a fraction or an exponent is DOUBLE. -#}
{% macro braze_currents__json_type(json_expr) -%}
    {{- return(adapter.dispatch('braze_currents__json_type', 'braze_currents')(json_expr)) -}}
{%- endmacro %}

{#- A JSON text that begins with `{` is an object: that test is a byte, json_type() a parse of
    the whole text (an event's `properties`, for every event of the stream). -#}
{% macro default__braze_currents__json_type(json_expr) -%}
    case
        when starts_with(cast({{ json_expr }} as varchar), '{') then 'OBJECT'
        else json_type({{ json_expr }})
    end
{%- endmacro %}

{% macro spark__braze_currents__json_type(json_expr) -%}
    {%- set kind = 'upper(schema_of_variant(try_parse_json(' ~ json_expr ~ ')))' -%}
    case
        when {{ kind }} like 'OBJECT%' then 'OBJECT'
        when {{ kind }} like 'ARRAY%' then 'ARRAY'
        when {{ kind }} = 'STRING' then 'VARCHAR'
        when {{ kind }} = 'BOOLEAN' then 'BOOLEAN'
        when {{ kind }} = 'VOID' then 'NULL'
        when
            {{ kind }} in ('BIGINT', 'INT', 'SMALLINT', 'TINYINT')
            or ({{ kind }} like 'DECIMAL(%,0)' and trim({{ json_expr }}) rlike '^-?[0-9]+$')
            then case
                when cast(trim({{ json_expr }}) as decimal(38, 0)) between 0 and 18446744073709551615
                    then 'UBIGINT'
                when cast(trim({{ json_expr }}) as decimal(38, 0)) >= -9223372036854775808
                    then 'BIGINT'
                else 'DOUBLE'
            end
        when {{ kind }} like 'DECIMAL%' or {{ kind }} in ('DOUBLE', 'FLOAT') then 'DOUBLE'
    end
{%- endmacro %}

{#- Whether a text is valid JSON (NULL for NULL). -#}
{% macro braze_currents__json_is_valid(text_expr) -%}
    {{- return(adapter.dispatch('braze_currents__json_is_valid', 'braze_currents')(text_expr)) -}}
{%- endmacro %}

{% macro default__braze_currents__json_is_valid(text_expr) -%}
    json_valid({{ text_expr }})
{%- endmacro %}

{% macro spark__braze_currents__json_is_valid(text_expr) -%}
    case when {{ text_expr }} is not null then try_parse_json({{ text_expr }}) is not null end
{%- endmacro %}

{#- A text holding JSON, as the engine's JSON value (DuckDB: JSON, minified; Spark: the text). -#}
{% macro braze_currents__json_parse(text_expr) -%}
    {{- return(adapter.dispatch('braze_currents__json_parse', 'braze_currents')(text_expr)) -}}
{%- endmacro %}

{% macro default__braze_currents__json_parse(text_expr) -%}
    json({{ text_expr }})
{%- endmacro %}

{% macro spark__braze_currents__json_parse(text_expr) -%}
    {{ text_expr }}
{%- endmacro %}

{#- The text a JSON string holds (unquoted, unescaped). Only for a JSON string: check its
    braze_currents__json_type first (other kinds give their JSON text on DuckDB, NULL on Spark). -#}
{% macro braze_currents__json_string_value(json_expr) -%}
    {{- return(adapter.dispatch('braze_currents__json_string_value', 'braze_currents')(json_expr)) -}}
{%- endmacro %}

{% macro default__braze_currents__json_string_value(json_expr) -%}
    ({{ json_expr }} ->> '$')
{%- endmacro %}

{% macro spark__braze_currents__json_string_value(json_expr) -%}
    try_variant_get(try_parse_json({{ json_expr }}), '$', 'string')
{%- endmacro %}

{#- The JSON of the value of `key` (a Jinja string) in the object `json_expr`; NULL when the
    key is missing or `json_expr` is not an object; a JSON null gives the JSON `null`. -#}
{% macro braze_currents__json_extract(json_expr, key) -%}
    {{- return(adapter.dispatch('braze_currents__json_extract', 'braze_currents')(json_expr, key)) -}}
{%- endmacro %}

{% macro default__braze_currents__json_extract(json_expr, key) -%}
    json_extract({{ json_expr }}, {{ braze_currents__string_literal('$."' ~ key | replace('"', '\\"') ~ '"') }})
{%- endmacro %}

{% macro spark__braze_currents__json_extract(json_expr, key) -%}
    {%- set value = 'try_variant_get(try_parse_json(' ~ json_expr ~ '), ' ~ braze_currents__string_literal("$['" ~ key ~ "']") ~ ')' -%}
    case
        when {{ value }} is null then null
        when is_variant_null({{ value }}) then 'null'
        when upper(schema_of_variant({{ value }})) = 'STRING' then to_json({{ value }})
        else from_json({{ json_expr }}, {{ braze_currents__string_literal('struct<`' ~ key ~ '`: string>') }}).{{ adapter.quote(key) }}
    end
{%- endmacro %}

{#- The JSON text of each element of a JSON array, in order (a string keeps its quotes); no
    element when `json_expr` is not an array (DuckDB: an empty array, Spark: NULL). -#}
{% macro braze_currents__json_array_items(json_expr) -%}
    {{- return(adapter.dispatch('braze_currents__json_array_items', 'braze_currents')(json_expr)) -}}
{%- endmacro %}

{% macro default__braze_currents__json_array_items(json_expr) -%}
    json_extract({{ json_expr }}, '$[*]')
{%- endmacro %}

{% macro spark__braze_currents__json_array_items(json_expr) -%}
    zip_with(
        from_json({{ json_expr }}, 'array<string>'),
        try_cast(try_parse_json({{ json_expr }}) as array<variant>),
        (item_text, item_value) -> case
            when upper(schema_of_variant(item_value)) = 'STRING' then to_json(item_value)
            when is_variant_null(item_value) then 'null'
            else item_text
        end
    )
{%- endmacro %}

{#- An array of the structs braze_currents__json_struct(element, spec) gives for each element
    of a JSON array; NULL when `json_expr` is not an array. -#}
{% macro braze_currents__json_struct_array(json_expr, spec) -%}
    {%- set spec = fromjson(spec) if spec is string else spec -%}
    {{- return(adapter.dispatch('braze_currents__json_struct_array', 'braze_currents')(json_expr, spec)) -}}
{%- endmacro %}

{% macro default__braze_currents__json_struct_array(json_expr, spec) -%}
    from_json({{ json_expr }}, {{ braze_currents__string_literal(tojson([spec])) }})
{%- endmacro %}

{% macro spark__braze_currents__json_struct_array(json_expr, spec) -%}
    transform({{ braze_currents__json_array_items(json_expr) }}, element_json -> {{ braze_currents__json_struct('element_json', spec) }})
{%- endmacro %}

{#- A JSON object of one key (a Jinja string or a SQL expression, `key_is_sql`) whose value is
    the JSON `value_json` (SQL NULL: the JSON null). -#}
{% macro braze_currents__json_object(key, value_json, key_is_sql=false) -%}
    {%- set key_sql = key if key_is_sql else braze_currents__string_literal(key) -%}
    {{- return(adapter.dispatch('braze_currents__json_object', 'braze_currents')(key_sql, value_json)) -}}
{%- endmacro %}

{% macro default__braze_currents__json_object(key_sql, value_json) -%}
    json_object({{ key_sql }}, {{ value_json }})
{%- endmacro %}

{% macro spark__braze_currents__json_object(key_sql, value_json) -%}
    concat('{', {{ braze_currents__spark_json_quote(key_sql) }}, ':', coalesce({{ value_json }}, 'null'), '}')
{%- endmacro %}

{#- The object `json_expr` without the keys `keys` (a list of Jinja strings). -#}
{% macro braze_currents__json_remove_keys(json_expr, keys) -%}
    {{- return(adapter.dispatch('braze_currents__json_remove_keys', 'braze_currents')(json_expr, keys)) -}}
{%- endmacro %}

{% macro default__braze_currents__json_remove_keys(json_expr, keys) -%}
    json_merge_patch({{ json_expr }}, '{ {%- for key in keys %}"{{ key }}": null{{ ", " if not loop.last }}{% endfor -%} }')
{%- endmacro %}

{% macro spark__braze_currents__json_remove_keys(json_expr, keys) -%}
    {%- set quoted = [] -%}
    {%- for key in keys -%}{%- do quoted.append(braze_currents__string_literal(key)) -%}{%- endfor -%}
    {{ braze_currents__spark_json_from_entries(
        'map_filter(' ~ braze_currents__spark_json_entries(json_expr)
        ~ ', (kept_key, kept_json) -> kept_key not in (' ~ quoted | join(', ') ~ '))') }}
{%- endmacro %}

{#- The object `base_json` with the keys of the object `patch_json` set to their values, and
    removed where the value is null: a JSON merge patch (RFC 7396) of objects. On Spark the
    patch is applied to the top level only: a value that is an object replaces the one it
    patches (DuckDB merges two objects key by key), and keeps any nulls it holds (DuckDB drops
    them). The event stream's patches meet neither case but in events that hold the same
    object twice (a flat event's `properties` text and a top-level key of the same name). -#}
{% macro braze_currents__json_merge(base_json, patch_json) -%}
    {{- return(adapter.dispatch('braze_currents__json_merge', 'braze_currents')(base_json, patch_json)) -}}
{%- endmacro %}

{% macro default__braze_currents__json_merge(base_json, patch_json) -%}
    json_merge_patch({{ base_json }}, {{ patch_json }})
{%- endmacro %}

{% macro spark__braze_currents__json_merge(base_json, patch_json) -%}
    {%- set patch = braze_currents__spark_json_entries(patch_json) -%}
    {{ braze_currents__spark_json_from_entries(
        'map_concat(map_filter(' ~ braze_currents__spark_json_entries(base_json)
        ~ ', (kept_key, kept_json) -> not array_contains(map_keys(' ~ patch ~ '), kept_key)), '
        ~ 'map_filter(' ~ patch ~ ", (kept_key, kept_json) -> kept_json <> 'null'))") }}
{%- endmacro %}

{#- Spark: a text as a JSON string (quoted, escaped). -#}
{% macro braze_currents__spark_json_quote(text_expr) -%}
    substring(to_json(array({{ text_expr }})), 2, length(to_json(array({{ text_expr }}))) - 2)
{%- endmacro %}

{#- Spark: the entries of a JSON object as a map of key -> the JSON text of its value (as
    written); NULL when it is not an object. -#}
{% macro braze_currents__spark_json_entries(json_expr) -%}
    map_zip_with(
        from_json({{ json_expr }}, 'map<string,string>'),
        try_cast(try_parse_json({{ json_expr }}) as map<string, variant>),
        (entry_key, entry_text, entry_value) -> case
            when is_variant_null(entry_value) then 'null'
            when upper(schema_of_variant(entry_value)) = 'STRING' then to_json(entry_value)
            else entry_text
        end
    )
{%- endmacro %}

{#- Spark: a JSON object's text from a map of key -> JSON text. -#}
{% macro braze_currents__spark_json_from_entries(entries) -%}
    concat('{', array_join(transform(map_entries({{ entries }}), entry -> concat(
        {{ braze_currents__spark_json_quote('entry.key') }}, ':', entry.value)), ','), '}')
{%- endmacro %}
