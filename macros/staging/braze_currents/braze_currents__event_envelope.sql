{#- How a Currents event is read, in one place for every staging model.

    An event is usable when it has a non-empty text `id`, a non-empty text `event_type` and a
    `time` that is a JSON number of seconds (or text holding one) between 1970 and 9999; a
    boolean, an object, a list is not a time. The batches check, the event stream and the
    invalid events all use this one rule, so they never disagree about an event.

    Braze documents two envelopes, and both are read:
    - Custom HTTP: `user` {user_id, external_user_id, device_id, timezone} and a `properties`
      object (an object sent as JSON text is read as that object). Other top-level keys and
      other `user` keys are envelope extras (`app`, `device`, `user.alias_name`, ...).
    - flat (Braze's storage connectors, flattened exports): ids and fields at the top level;
      what is not envelope is the event's properties. Custom events and purchases carry their
      custom properties as `properties`, a JSON text: it is read into the field the catalogue
      names with `meta.storage_key` (custom_properties, purchase_properties).
    An event is flat when neither `user` nor `properties` is a JSON object. -#}

{% macro braze_currents__envelope_spec() -%}
{"id": "VARCHAR", "event_type": "VARCHAR", "time": "JSON", "user": "JSON", "user_id": "VARCHAR", "external_user_id": "VARCHAR", "device_id": "VARCHAR", "timezone": "VARCHAR", "properties": "JSON"}
{%- endmacro %}

{#- The ids of a Custom HTTP event's `user` (read from the envelope's `user`, a small JSON). -#}
{% macro braze_currents__user_spec() -%}
{"user_id": "VARCHAR", "external_user_id": "VARCHAR", "device_id": "VARCHAR", "timezone": "VARCHAR"}
{%- endmacro %}

{#- What the batch check reads of each event of a batch. -#}
{% macro braze_currents__key_spec() -%}
{"id": "VARCHAR", "event_type": "VARCHAR", "time": "JSON"}
{%- endmacro %}

{#- The seconds of a `time` read as JSON: a number, or text holding one; NULL otherwise. -#}
{% macro braze_currents__time_seconds(time) -%}
    case
        when {{ braze_currents__json_type(time) }} in ('UBIGINT', 'BIGINT', 'DOUBLE')
            then cast({{ time }} as double)
        when {{ braze_currents__json_type(time) }} = 'VARCHAR'
            then try_cast({{ braze_currents__json_string_value(time) }} as double)
    end
{%- endmacro %}

{#- `time` is the JSON `time` of the event (braze_currents__envelope_spec). -#}
{% macro braze_currents__is_usable_event(id, event_type, time) -%}
    (
        coalesce({{ id }}, '') <> ''
        and coalesce({{ event_type }}, '') <> ''
        and coalesce({{ braze_currents__time_seconds(time) }} between 0 and 253402300799, false)
    )
{%- endmacro %}

{% macro braze_currents__unix_to_timestamp(seconds) -%}
    {{ braze_currents__timestamp_from_unix_seconds(seconds) }}
{%- endmacro %}

{#- The keys of the envelope, by envelope. -#}
{% macro braze_currents__envelope_keys() -%}
    {{ return(['id', 'event_type', 'time', 'user', 'properties',
               'user_id', 'external_user_id', 'device_id', 'timezone']) }}
{%- endmacro %}

{% macro braze_currents__user_keys() -%}
    {{ return(['user_id', 'external_user_id', 'device_id', 'timezone']) }}
{%- endmacro %}

{#- A field of the from_json() struct `e` of an event (quoted: `user` is a keyword). -#}
{% macro braze_currents__envelope_field(e, key) -%}
    {{ e }}.{{ adapter.quote(key) }}
{%- endmacro %}

{#- Whether an event (`e`: its from_json() struct) is flat. -#}
{% macro braze_currents__is_flat(event_json, e) -%}
    (
        {{ braze_currents__json_type(braze_currents__envelope_field(e, 'user')) }} is distinct from 'OBJECT'
        and {{ braze_currents__json_type(e ~ '.properties') }} is distinct from 'OBJECT'
    )
{%- endmacro %}

{#- The object a `properties` sent as JSON text holds; NULL when it holds no object. -#}
{% macro braze_currents__properties_text_object(properties) -%}
    {%- set text = braze_currents__json_string_value(properties) -%}
    case
        when
            {{ braze_currents__json_type(properties) }} = 'VARCHAR'
            and {{ braze_currents__json_is_valid(text) }}
            and {{ braze_currents__json_type('(' ~ text ~ ')') }} = 'OBJECT'
            then {{ braze_currents__json_parse(text) }}
    end
{%- endmacro %}

{#- event_type -> the field a flat event's `properties` text belongs in, from the catalogue
    (columns with meta.storage_key: properties), as a CASE on `event_type`. A unit test has no
    graph: there, no event type has such a field. -#}
{% macro braze_currents__storage_field(event_type) -%}
    {%- set fields = [] -%}
    {%- if execute and graph.get('nodes') -%}
        {%- for node in braze_currents__typed_models() -%}
            {%- for column in node.columns.values() -%}
                {%- if (column.meta or {}).get('storage_key') == 'properties' -%}
                    {%- do fields.append((
                        node.config.meta.currents_event_type,
                        (column.meta or {}).get('json_key') or column.name)) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if fields -%}
        case {{ event_type }}
            {%- for type, field in fields %}
            when {{ braze_currents__string_literal(type) }} then {{ braze_currents__string_literal(field) }}
            {%- endfor %}
        end
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{#- The properties of an event, whatever its envelope (see the top of this file). A value that
    cannot be placed (a `properties` text that holds no JSON object, a `properties` that is
    neither object nor text) is kept as it came, and counted by the test
    braze_currents__properties_are_placed:
    - Custom HTTP: the `properties` itself (a JSON string, a list, ...);
    - flat: under the catalogue's field (else `properties`), as it came. -#}
{% macro braze_currents__event_properties(event_json, e) -%}
    {%- set without_envelope = braze_currents__json_remove_keys(event_json, braze_currents__envelope_keys()) -%}
    {%- set text_object = braze_currents__properties_text_object(e ~ '.properties') -%}
    case
        when not {{ braze_currents__is_flat(event_json, e) }}
            then coalesce({{ text_object }}, {{ e }}.properties)
        when {{ e }}.properties is null
            then {{ without_envelope }}
        else {{ braze_currents__json_merge(
            without_envelope,
            'case when ' ~ braze_currents__storage_field(e ~ '.event_type') ~ ' is not null then '
            ~ braze_currents__json_object(
                braze_currents__storage_field(e ~ '.event_type'),
                'coalesce(' ~ text_object ~ ', ' ~ e ~ '.properties)',
                key_is_sql=true)
            ~ ' else coalesce(' ~ text_object ~ ', '
            ~ braze_currents__json_object('properties', e ~ '.properties') ~ ') end'
        ) }}
    end
{%- endmacro %}

{#- The keys of a Custom HTTP event's envelope the stream does not know, as one JSON object
    (`{"app": ..., "user": {"alias_name": ...}}`); NULL when there are none, and for flat
    events, whose top-level fields are their properties. -#}
{% macro braze_currents__envelope_extras(event_json, e) -%}
    {%- set user = braze_currents__envelope_field(e, 'user') -%}
    {%- set json_type = braze_currents__type('json') -%}
    {%- set envelope_keys = "('" ~ braze_currents__envelope_keys() | join("', '") ~ "')" -%}
    {%- set user_keys = "('" ~ braze_currents__user_keys() | join("', '") ~ "')" -%}
    case
        when
            not {{ braze_currents__is_flat(event_json, e) }}
            and (
                coalesce({{ braze_currents__array_length(braze_currents__array_filter(
                    braze_currents__json_keys(event_json), 'k', 'k not in ' ~ envelope_keys)) }}, 0) > 0
                or coalesce({{ braze_currents__array_length(braze_currents__array_filter(
                    braze_currents__json_keys(user), 'k', 'k not in ' ~ user_keys)) }}, 0) > 0
            )
            then nullif(
                {{ braze_currents__json_merge(
                    braze_currents__json_remove_keys(event_json, braze_currents__envelope_keys()),
                    braze_currents__json_object('user',
                        'nullif(' ~ braze_currents__json_remove_keys(
                            'case when ' ~ braze_currents__json_type(user) ~ " = 'OBJECT' then "
                            ~ user ~ " else cast('{}' as " ~ json_type ~ ') end',
                            braze_currents__user_keys())
                        ~ ", cast('{}' as " ~ json_type ~ '))')
                ) }},
                cast('{}' as {{ json_type }})
            )
    end
{%- endmacro %}
