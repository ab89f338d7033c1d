{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}

-- The staging stream holds each event once, and a load is read once (see
-- braze_currents__new_loads), so appending the new loads' events keeps one row per event;
-- re-running adds nothing. The names come after the contract's columns, as the event
-- carried them; the dimensions (dim_campaigns, dim_canvases, ...) hold each one's latest name.

with

new_events as (
    select
        event_id,
        event_at,
        channel,
        action,
        campaign_id,
        canvas_id,
        canvas_step_id,
        message_variation_id,
        canvas_variation_id,
        dispatch_id,
        send_id,
        external_user_id,
        braze_id,
        is_machine_open,
        loaded_at,
        campaign_name,
        message_variation_name,
        canvas_name,
        canvas_variation_name,
        canvas_step_name,
        app_group_id,
        app_id
    from {{ ref('int_message_events') }}
    where {{ braze_currents__new_loads() }}
)

select *
from new_events
