{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='session_id',
    on_schema_change='fail',
) }}

-- One row per session of a workspace (`app_group_id`, `session_id`). A session's start and end
-- can arrive in different loads: a run folds the new events of a session into the row it
-- already has (it rebuilds every workspace's row of the session ids it reads, the unique key).
-- Every fold below (min, max, bool_or, the duration of the latest end) gives the same row
-- whatever the order the events came in, and reading an event twice changes nothing.

with

new_session_events as (
    select *
    from {{ ref('int_session_events') }}
    where {{ braze_currents__new_loads() }} and session_id is not null
),

new_sessions as (
    select
        app_group_id,
        session_id,
        min(event_at) filter (where session_event in ('start', 'first_session')) as started_at,
        max(event_at) filter (where session_event = 'end') as ended_at,
        arg_max(duration_seconds, event_at) filter (where session_event = 'end')
            as duration_seconds,
        bool_or(session_event = 'first_session') as is_first_session,
        max(external_user_id) as external_user_id,
        max(braze_id) as braze_id,
        max(device_id) as device_id,
        max(app_id) as app_id,
        max(platform) as platform,
        max(loaded_at) as loaded_at
    from new_session_events
    group by app_group_id, session_id
),

session_versions as (
    select
        *,
        true as is_new
    from new_sessions
    {%- if is_incremental() %}
        union all
        select
            app_group_id,
            session_id,
            started_at,
            ended_at,
            duration_seconds,
            is_first_session,
            external_user_id,
            braze_id,
            device_id,
            app_id,
            platform,
            loaded_at,
            false as is_new
        from {{ this }}
        where session_id in (select new_sessions.session_id from new_sessions)
    {%- endif %}
),

folded as (
    select
        app_group_id,
        session_id,
        min(started_at) as started_at,
        max(ended_at) as ended_at,
        arg_max(duration_seconds, ended_at) as duration_seconds,
        bool_or(is_first_session) as is_first_session,
        max(external_user_id) as external_user_id,
        max(braze_id) as braze_id,
        max(device_id) as device_id,
        max(app_id) as app_id,
        max(platform) as platform,
        -- The load that changed the row last, so the daily marts see the change (the row of
        -- another workspace that shares the session id keeps its own).
        coalesce(max(loaded_at) filter (where is_new), max(loaded_at)) as loaded_at
    from session_versions
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
    coalesce(started_at, ended_at)::date as session_date,
    started_at is not null and ended_at is not null as is_paired,
    duration_seconds,
    is_first_session,
    loaded_at
from folded
