{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}

-- Experiment-path events carry no workspace (`app_group_id`): each gets its user's, from the
-- user's Canvas events that carry one (a Braze user id belongs to one workspace). It stays NULL
-- where none does yet, or where the user's events name two workspaces.

with

new_events as (
    select *
    from {{ ref('int_canvas_journey_events') }}
    where {{ braze_currents__new_loads() }}
),

known_workspaces as (
    select
        braze_id,
        app_group_id
    from new_events
    where app_group_id is not null and braze_id is not null
    {%- if is_incremental() %}
        union all
        select
            braze_id,
            app_group_id
        from {{ this }}
        where
            app_group_id is not null
            and braze_id in (
                select new_events.braze_id
                from new_events
                where new_events.app_group_id is null
            )
    {%- endif %}
),

user_workspaces as (
    select
        braze_id,
        min(app_group_id) as app_group_id
    from known_workspaces
    group by braze_id
    having count(distinct app_group_id) = 1
)

select
    new_events.event_id,
    new_events.event_at,
    new_events.journey_event,
    new_events.exit_reason,
    new_events.canvas_id,
    new_events.canvas_name,
    new_events.canvas_variation_id,
    new_events.canvas_variation_name,
    new_events.canvas_step_id,
    new_events.canvas_step_name,
    new_events.experiment_step_id,
    new_events.experiment_split_id,
    new_events.in_control_group,
    new_events.external_user_id,
    new_events.braze_id,
    new_events.loaded_at,
    coalesce(new_events.app_group_id, user_workspaces.app_group_id) as app_group_id
from new_events
left join user_workspaces on new_events.braze_id = user_workspaces.braze_id
