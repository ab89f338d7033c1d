{{ config(**marts__daily_incremental('event_date')) }}

-- How late events arrive: per day of the event, workspace and event type, the time from the event
-- (`event_at`) to the receipt of its batch (`received_at`: the Treasure Data export's time
-- where the input has one, else when it was loaded). A negative lateness is a clock ahead of
-- Braze's. A run rebuilds the days new loads brought events for.
{%- set rebuild = marts__days_to_rebuild([ref('stg_braze_currents__events')]) %}

with

events as (
    select
        events.event_at,
        events.app_group_id,
        events.event_type,
        events.loaded_at,
        {{ braze_currents__seconds_between('events.event_at', 'batches.received_at') }}
            as lateness_seconds
    from {{ ref('stg_braze_currents__events') }} as events
    left join {{ ref('stg_braze_currents__batches') }} as batches
        on events.batch_id = batches.batch_id
    where {{ rebuild }}
)

select
    cast(event_at as date) as event_date,
    app_group_id,
    event_type,
    count(*) as events,
    count(lateness_seconds) as events_with_receipt_time,
    min(lateness_seconds) as min_lateness_seconds,
    {{ braze_currents__median('lateness_seconds') }} as median_lateness_seconds,
    {{ braze_currents__quantile_disc('lateness_seconds', 0.95) }} as p95_lateness_seconds,
    max(lateness_seconds) as max_lateness_seconds,
    count(*) filter (where lateness_seconds > 3600) as events_later_than_1h,
    count(*) filter (where lateness_seconds > 86400) as events_later_than_1d,
    max(loaded_at) as loaded_at
from events
group by all
order by event_date
