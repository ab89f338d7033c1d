{{ config(**marts__daily_incremental('event_date')) }}

{%- set rebuild = marts__days_to_rebuild([ref('stg_braze_currents__custom_events')]) %}

select
    cast(event_at as date) as event_date,
    app_group_id,
    name as event_name,
    count(*) as events,
    count(distinct braze_id) as users,
    {{ marts__ratio('count(*)', 'count(distinct braze_id)') }} as events_per_user,
    max(loaded_at) as loaded_at
from {{ ref('stg_braze_currents__custom_events') }}
where {{ rebuild }}
group by all
order by event_date
