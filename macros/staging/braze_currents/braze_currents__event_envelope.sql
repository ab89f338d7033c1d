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

{% macro braze_currents__key_spec() -%}
[{"id": "VARCHAR", "event_type": "VARCHAR", "time": "JSON"}]
{%- endmacro %}

{#- The seconds of a `time` read as JSON: a number, or text holding one; NULL otherwise. -#}
{% macro braze_currents__time_seconds(time) -%}
    case
        when json_type({{ time }}) in ('UBIGINT', 'BIGINT', 'DOUBLE')
            then {{ time }}::double
        when json_type({{ time }}) = 'VARCHAR'
            then try_cast({{ time }} ->> '$' as double)
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
    make_timestamp(({{ seconds }} * 1000000)::bigint)
{%- endmacro %}

{#- The keys of the envelope, by envelope. -#}
{% macro braze_currents__envelope_keys() -%}
    {{ return(['id', 'event_type', 'time', 'user', 'properties',
               'user_id', 'external_user_id', 'device_id', 'timezone']) }}
{%- endmacro %}

{% macro braze_currents__user_keys() -%}
    {{ return(['user_id', 'external_user_id', 'device_id', 'timezone']) }}
{%- endmacro %}

{#- A JSON merge patch that removes `keys` from an object. -#}
{% macro braze_currents__remove_keys_patch(keys) -%}
    '{ {%- for key in keys %}"{{ key }}": null{{ ", " if not loop.last }}{% endfor -%} }'
{%- endmacro %}

{#- Whether an event (`e`: its from_json() struct) is flat. -#}
{% macro braze_currents__is_flat(event_json, e) -%}
    (
        json_type({{ e }}."user") is distinct from 'OBJECT'
        and json_type({{ e }}.properties) is distinct from 'OBJECT'
    )
{%- endmacro %}

{#- The object a `properties` sent as JSON text holds; NULL when it holds no object. -#}
{% macro braze_currents__properties_text_object(properties) -%}
    case
        when
            json_type({{ properties }}) = 'VARCHAR'
            and json_valid({{ properties }} ->> '$')
            and json_type(({{ properties }} ->> '$')) = 'OBJECT'
            then json({{ properties }} ->> '$')
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
            when '{{ type | replace("'", "''") }}' then '{{ field | replace("'", "''") }}'
            {%- endfor %}
        end
    {%- else -%}
        null::varchar
    {%- endif -%}
{%- endmacro %}

{#- The properties of an event, whatever its envelope (see the top of this file). A value that
    cannot be placed (a `properties` text that holds no JSON object, a `properties` that is
    neither object nor text) is kept as it came, and counted by the test
    braze_currents__properties_are_placed:
    - Custom HTTP: the `properties` itself (a JSON string, a list, ...);
    - flat: under the catalogue's field (else `properties`), as it came. -#}
{% macro braze_currents__event_properties(event_json, e) -%}
    case
        when not {{ braze_currents__is_flat(event_json, e) }}
            then coalesce({{ braze_currents__properties_text_object(e ~ '.properties') }}, {{ e }}.properties)
        when {{ e }}.properties is null
            then json_merge_patch(
                {{ event_json }}, {{ braze_currents__remove_keys_patch(braze_currents__envelope_keys()) }}
            )
        else json_merge_patch(
            json_merge_patch(
                {{ event_json }}, {{ braze_currents__remove_keys_patch(braze_currents__envelope_keys()) }}
            ),
            case
                when {{ braze_currents__storage_field(e ~ '.event_type') }} is not null
                    then json_object(
                        {{ braze_currents__storage_field(e ~ '.event_type') }},
                        coalesce(
                            {{ braze_currents__properties_text_object(e ~ '.properties') }},
                            {{ e }}.properties
                        )
                    )
                else coalesce(
                    {{ braze_currents__properties_text_object(e ~ '.properties') }},
                    json_object('properties', {{ e }}.properties)
                )
            end
        )
    end
{%- endmacro %}

{#- The keys of a Custom HTTP event's envelope the stream does not know, as one JSON object
    (`{"app": ..., "user": {"alias_name": ...}}`); NULL when there are none, and for flat
    events, whose top-level fields are their properties. -#}
{% macro braze_currents__envelope_extras(event_json, e) -%}
    case
        when
            not {{ braze_currents__is_flat(event_json, e) }}
            and (
                len(list_filter(
                    json_keys({{ event_json }}),
                    lambda k: k not in ('{{ braze_currents__envelope_keys() | join("', '") }}')
                )) > 0
                or len(list_filter(
                    coalesce(json_keys({{ e }}."user"), []),
                    lambda k: k not in ('{{ braze_currents__user_keys() | join("', '") }}')
                )) > 0
            )
            then nullif(
                json_merge_patch(
                    json_merge_patch(
                        {{ event_json }},
                        {{ braze_currents__remove_keys_patch(braze_currents__envelope_keys()) }}
                    ),
                    json_object(
                        'user',
                        nullif(
                            json_merge_patch(
                                case
                                    when json_type({{ e }}."user") = 'OBJECT' then {{ e }}."user"
                                    else '{}'::json
                                end,
                                {{ braze_currents__remove_keys_patch(braze_currents__user_keys()) }}
                            ),
                            '{}'::json
                        )
                    )
                ),
                '{}'::json
            )
    end
{%- endmacro %}
