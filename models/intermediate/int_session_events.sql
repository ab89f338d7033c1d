-- The events that tell about an app session, in one shape: its start, its end (with the
-- duration the SDK measured) and the first-session marker.

{#- The session models, each with its session event: macros/marts/marts__braze.sql. #}
{%- set session_events = marts__session_models() %}

{% for source in session_events %}
    select
        event_id,
        session_id,
        '{{ source.session_event }}' as session_event,
        event_at,
        {%- if source.session_event == 'end' %}
            duration as duration_seconds,
        {%- else %}
            cast(null as double) as duration_seconds,
        {%- endif %}
        external_user_id,
        braze_id,
        device_id,
        app_group_id,
        app_id,
        platform,
        loaded_at
    from {{ ref(source.model) }}
    {%- if not loop.last %}
        union all
    {%- endif %}
{% endfor %}
