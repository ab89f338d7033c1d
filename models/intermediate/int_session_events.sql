-- The events that tell about an app session, in one shape: its start, its end (with the
-- duration the SDK measured) and the first-session marker.

with

starts as (
    select
        event_id,
        session_id,
        'start' as session_event,
        event_at,
        cast(null as double) as duration_seconds,
        external_user_id,
        braze_id,
        device_id,
        app_id,
        platform,
        loaded_at
    from {{ ref('stg_braze_currents__session_starts') }}
),

ends as (
    select
        event_id,
        session_id,
        'end' as session_event,
        event_at,
        duration as duration_seconds,
        external_user_id,
        braze_id,
        device_id,
        app_id,
        platform,
        loaded_at
    from {{ ref('stg_braze_currents__session_ends') }}
),

first_sessions as (
    select
        event_id,
        session_id,
        'first_session' as session_event,
        event_at,
        cast(null as double) as duration_seconds,
        external_user_id,
        braze_id,
        device_id,
        app_id,
        platform,
        loaded_at
    from {{ ref('stg_braze_currents__first_sessions') }}
)

select * from starts
union all
select * from ends
union all
select * from first_sessions
