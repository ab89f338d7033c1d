{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}

select
    event_id,
    event_at,
    journey_event,
    exit_reason,
    canvas_id,
    canvas_name,
    canvas_variation_id,
    canvas_variation_name,
    canvas_step_id,
    canvas_step_name,
    experiment_step_id,
    experiment_split_id,
    in_control_group,
    external_user_id,
    braze_id,
    loaded_at
from {{ ref('int_canvas_journey_events') }}
where {{ braze_currents__new_loads() }}
