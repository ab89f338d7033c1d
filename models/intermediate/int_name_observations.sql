{{ config(materialized='table') }}

-- The name observations (macros/marts/marts__names.sql: every message event, Canvas event and
-- conversion that names a campaign, Canvas, step or variation) folded to one row per workspace,
-- channel, ids and names, with when events first and last carried them. The five name
-- dimensions aggregate these few rows instead of each reading every event again.

with

observations as (
    {{ marts__name_observations() }}
)

select
    app_group_id,
    channel,
    campaign_id,
    campaign_name,
    message_variation_id,
    message_variation_name,
    canvas_id,
    canvas_name,
    canvas_variation_id,
    canvas_variation_name,
    canvas_step_id,
    canvas_step_name,
    min(event_at) as first_seen_at,
    max(event_at) as last_seen_at,
    count(*) as observation_count
from observations
group by
    app_group_id,
    channel,
    campaign_id,
    campaign_name,
    message_variation_id,
    message_variation_name,
    canvas_id,
    canvas_name,
    canvas_variation_id,
    canvas_variation_name,
    canvas_step_id,
    canvas_step_name
