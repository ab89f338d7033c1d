-- One row per Canvas step of a workspace the events mention: its latest name, when it was first
-- and last seen, and its place in the Canvas. Currents gives no step order, so `step_order` is
-- the order in which users reach the steps: each user's steps of a Canvas are numbered by the
-- time the user first reached them, and the steps are ranked by their average number (then by
-- when they were first seen, then by id, so that every step has its own place).

with

steps as (
    {{ marts__name_dimension(['canvas_id', 'canvas_step_id'], 'canvas_step_name') }}
),

reached as (
    select
        app_group_id,
        canvas_id,
        canvas_step_id,
        braze_id,
        min(event_at) as reached_at
    from ({{ marts__name_observations() }}) as observations
    where canvas_step_id is not null and braze_id is not null
    group by app_group_id, canvas_id, canvas_step_id, braze_id
),

positions as (
    select
        app_group_id,
        canvas_id,
        canvas_step_id,
        avg(position) as average_position
    from (
        select
            app_group_id,
            canvas_id,
            canvas_step_id,
            row_number() over (
                partition by app_group_id, canvas_id, braze_id
                order by reached_at, canvas_step_id
            ) as position
        from reached
    ) as numbered
    group by app_group_id, canvas_id, canvas_step_id
)

select
    steps.app_group_id,
    steps.canvas_id,
    steps.canvas_step_id,
    steps.canvas_step_name,
    row_number() over (
        partition by steps.app_group_id, steps.canvas_id
        order by
            positions.average_position nulls last,
            steps.first_seen_at,
            steps.canvas_step_id
    ) as step_order,
    positions.average_position,
    steps.first_seen_at,
    steps.last_seen_at,
    steps.channels
from steps
left join positions
    on
        steps.app_group_id is not distinct from positions.app_group_id
        and steps.canvas_id = positions.canvas_id
        and steps.canvas_step_id = positions.canvas_step_id
