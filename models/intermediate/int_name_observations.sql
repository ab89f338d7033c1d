{{ config(materialized='table') }}

{%- set columns = marts__name_columns() %}

-- The name observations (macros/marts/marts__names.sql: every message event, Canvas event and
-- conversion that names a campaign, Canvas, step or variation) folded to one row per workspace,
-- channel, ids and names, with when events first and last carried them. The five name
-- dimensions aggregate these few rows instead of each reading every event again.

with

observations as (
    {{ marts__name_observations() }}
)

select
    {{ columns | join(',\n    ') }},
    min(event_at) as first_seen_at,
    max(event_at) as last_seen_at,
    count(*) as observation_count
from observations
group by
    {{ columns | join(',\n    ') }}
