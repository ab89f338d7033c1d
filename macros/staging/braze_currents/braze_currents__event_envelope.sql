{#- How a Currents event is read, in one place for every staging model.

    An event is usable when it has a non-empty text `id`, a non-empty text `event_type` and a
    `time` that is a number of seconds (or text holding one) between 1970 and 9999. The
    batches check, the event stream and the invalid events all use this one rule, so they
    never disagree about an event. -#}

{% macro braze_currents__envelope_spec() -%}
{"id": "VARCHAR", "event_type": "VARCHAR", "time": "DOUBLE", "user": {"user_id": "VARCHAR", "external_user_id": "VARCHAR", "device_id": "VARCHAR", "timezone": "VARCHAR"}, "user_id": "VARCHAR", "external_user_id": "VARCHAR", "device_id": "VARCHAR", "timezone": "VARCHAR", "properties": "JSON"}
{%- endmacro %}

{% macro braze_currents__key_spec() -%}
[{"id": "VARCHAR", "event_type": "VARCHAR", "time": "DOUBLE"}]
{%- endmacro %}

{% macro braze_currents__is_usable_event(id, event_type, time) -%}
    (
        coalesce({{ id }}, '') <> ''
        and coalesce({{ event_type }}, '') <> ''
        and coalesce({{ time }} between 0 and 253402300799, false)
    )
{%- endmacro %}

{% macro braze_currents__unix_to_timestamp(seconds) -%}
    make_timestamp(({{ seconds }} * 1000000)::bigint)
{%- endmacro %}

{#- Keys that belong to the envelope of a flat (storage-format) event; the rest of such an
    event is its properties. -#}
{% macro braze_currents__flat_envelope_patch() -%}
'{"id": null, "event_type": null, "time": null, "user": null, "user_id": null, "external_user_id": null, "device_id": null, "timezone": null}'
{%- endmacro %}
