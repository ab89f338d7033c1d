{#- Regular expressions that behave the same on every engine. `pattern` and `replacement` are
    Jinja strings (not SQL): each engine's macro writes them as its own literal, as Spark's
    string literals read backslashes as escapes and DuckDB's do not. Patterns use the syntax
    both engines share (RE2 / Java): classes, groups, anchors, quantifiers, no look-around. -#}

{#- A SQL string literal of `text` for this engine. -#}
{% macro braze_currents__string_literal(text) -%}
    {{- return(adapter.dispatch('braze_currents__string_literal', 'braze_currents')(text)) -}}
{%- endmacro %}

{% macro default__braze_currents__string_literal(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__braze_currents__string_literal(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- Every match of `pattern` in `expr` replaced by `replacement`, in which \1 .. \9 are the
    groups. (DuckDB replaces only the first match without its 'g' option; Spark replaces all,
    returns NULL when given DuckDB's 'g' as a fourth argument, and writes groups as $1.) -#}
{% macro braze_currents__regex_replace_all(expr, pattern, replacement) -%}
    {{- return(adapter.dispatch('braze_currents__regex_replace_all', 'braze_currents')(expr, pattern, replacement)) -}}
{%- endmacro %}

{% macro default__braze_currents__regex_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ braze_currents__string_literal(pattern) }}, {{ braze_currents__string_literal(replacement) }}, 'g')
{%- endmacro %}

{% macro spark__braze_currents__regex_replace_all(expr, pattern, replacement) -%}
    {%- set java = modules.re.sub('\\$', '\\\\$', replacement) -%}
    {%- set java = modules.re.sub('\\\\([0-9])', '$\\1', java) -%}
    regexp_replace({{ expr }}, {{ braze_currents__string_literal(pattern) }}, {{ braze_currents__string_literal(java) }})
{%- endmacro %}

{#- Group `group` (0: the whole match) of the first match of `pattern` in `expr`; '' when it
    does not match (both engines), NULL for NULL. -#}
{% macro braze_currents__regex_extract(expr, pattern, group=0) -%}
    {{- return(adapter.dispatch('braze_currents__regex_extract', 'braze_currents')(expr, pattern, group)) -}}
{%- endmacro %}

{% macro default__braze_currents__regex_extract(expr, pattern, group) -%}
    regexp_extract({{ expr }}, {{ braze_currents__string_literal(pattern) }}, {{ group }})
{%- endmacro %}

{% macro spark__braze_currents__regex_extract(expr, pattern, group) -%}
    regexp_extract({{ expr }}, {{ braze_currents__string_literal(pattern) }}, {{ group }})
{%- endmacro %}

{#- True when the whole of `expr` matches `pattern` (DuckDB's regexp_full_match; Spark's
    rlike finds a match anywhere, so the pattern is anchored). NULL for NULL. -#}
{% macro braze_currents__regex_full_match(expr, pattern) -%}
    {{- return(adapter.dispatch('braze_currents__regex_full_match', 'braze_currents')(expr, pattern)) -}}
{%- endmacro %}

{% macro default__braze_currents__regex_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, {{ braze_currents__string_literal(pattern) }})
{%- endmacro %}

{% macro spark__braze_currents__regex_full_match(expr, pattern) -%}
    ({{ expr }} rlike {{ braze_currents__string_literal('^(?:' ~ pattern ~ ')$') }})
{%- endmacro %}
