{{ config(**marts__daily_incremental('session_date')) }}

-- A session belongs to the day it started (the day it ended when its start is unknown). A
-- session that gains its end in a later load changes its row in fct_sessions, and its day here.
{%- set rebuild = marts__days_to_rebuild([ref('fct_sessions')], column='session_date') %}

select
    session_date,
    app_group_id,
    platform,
    count(*) as sessions,
    count(distinct braze_id) as users,
    {{ marts__ratio('count(*)', 'count(distinct braze_id)') }} as sessions_per_user,
    count(*) filter (where is_first_session) as first_sessions,
    count(*) filter (where is_paired) as paired_sessions,
    count(*) filter (where ended_at is null) as sessions_without_end,
    count(*) filter (where started_at is null) as sessions_without_start,
    avg(duration_seconds) filter (where is_paired) as average_duration_seconds,
    {{ braze_currents__median('case when is_paired then duration_seconds end') }}
        as median_duration_seconds,
    sum(duration_seconds) filter (where is_paired) as total_duration_seconds,
    max(loaded_at) as loaded_at
from {{ ref('fct_sessions') }}
where {{ rebuild }}
group by all
order by session_date
