-- The events that tell about an app session, in one shape: its start, its end (with the
-- duration the SDK measured) and the first-session marker.

{%- set session_events = [
    ('stg_braze_currents__session_starts', 'start'),
    ('stg_braze_currents__session_ends', 'end'),
    ('stg_braze_currents__first_sessions', 'first_session'),
] %}

{% for model, session_event in session_events %}
    select
        event_id,
        session_id,
        '{{ session_event }}' as session_event,
        event_at,
        {%- if session_event == 'end' %}
            duration as duration_seconds,
        {%- else %}
            cast(null as double) as duration_seconds,
        {%- endif %}
        external_user_id,
        braze_id,
        device_id,
        app_id,
        platform,
        loaded_at
    from {{ ref(model) }}
    {%- if not loop.last %}
        union all
    {%- endif %}
{% endfor %}
