{{ config(**marts__entity_incremental('session_id')) }}

-- One row per session of a workspace (`app_group_id`, `session_id`). A session's start and end
-- can arrive in different loads: a run rebuilds every workspace's row of each session id that
-- new loads brought an event for, from all of its events (never from the table itself, which
-- Spark cannot read while it overwrites it), so a session is the same row whatever the order
-- its events came in, and reading an event twice changes nothing. On Spark a run rebuilds
-- every session of the buckets (`entity_bucket`, of `session_id`) of those
-- (marts__entity_incremental).

with

{% if is_incremental() -%}
    touched_sessions as (
        select distinct session_id
        from {{ ref('int_session_events') }}
        where {{ braze_currents__new_loads() }} and session_id is not null
    ),
{%- endif %}

session_events as (
    select *
    from {{ ref('int_session_events') }}
    where
        session_id is not null
        and {{ marts__rebuilds_entity(
            'session_id', 'select touched_sessions.session_id from touched_sessions') }}
),

sessions as (
    select
        app_group_id,
        session_id,
        min(event_at) filter (where session_event in ('start', 'first_session')) as started_at,
        max(event_at) filter (where session_event = 'end') as ended_at,
        -- The duration the latest end reported.
        {{ braze_currents__max_by_not_null(
            "case when session_event = 'end' then duration_seconds end", 'event_at') }}
            as duration_seconds,
        bool_or(session_event = 'first_session') as is_first_session,
        max(external_user_id) as external_user_id,
        max(braze_id) as braze_id,
        max(device_id) as device_id,
        max(app_id) as app_id,
        max(platform) as platform,
        -- The load that changed the row last, so the daily marts see the change (the row of
        -- another workspace that shares the session id keeps its own).
        max(loaded_at) as loaded_at
    from session_events
    group by app_group_id, session_id
)

select
    app_group_id,
    session_id,
    braze_id,
    external_user_id,
    device_id,
    app_id,
    platform,
    started_at,
    ended_at,
    cast(coalesce(started_at, ended_at) as date) as session_date,
    started_at is not null and ended_at is not null as is_paired,
    duration_seconds,
    is_first_session,
    loaded_at,
    {{ marts__entity_bucket('session_id') }} as entity_bucket
from sessions
