-- One row per day, for the semantic layer (MetricFlow joins metrics over time to it): from the
-- first to the last day of the events, and a year beyond.

with

bounds as (
    select
        coalesce(min(event_at)::date, current_date) as first_day,
        coalesce(max(event_at)::date, current_date) + 366 as last_day
    from {{ ref('stg_braze_currents__events') }}
)

select cast(day as date) as date_day
from bounds, range(bounds.first_day, bounds.last_day, interval 1 day) as days (day)
