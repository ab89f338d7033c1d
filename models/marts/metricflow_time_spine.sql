-- One row per day, for the semantic layer (MetricFlow joins metrics over time to it): from the
-- first to the last day of the events, and a year beyond.

with

bounds as (
    select
        coalesce(cast(min(event_at) as date), current_date) as first_day,
        date_add(coalesce(cast(max(event_at) as date), current_date), 366) as last_day
    from {{ ref('stg_braze_currents__events') }}
),

days as (
    select {{ braze_currents__unnest_days('first_day', 'last_day', 'date_day') }}
    from bounds
)

select date_day
from days
