-- Lifetime funnel of each Canvas step in each variation, with the latest names and the step's
-- order: one row per workspace x Canvas x Canvas variation x step (x channel of its messages).
-- Users who reached the step come from the journey events (entries and progressions); the
-- message columns from one row per message sent (fct_message_sends).

with

reached as (
    select
        app_group_id,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        count(distinct braze_id) filter (where journey_event in ('entry', 'progression'))
            as users_reached,
        count(distinct braze_id) filter (where journey_event = 'exit') as users_exited,
        count(distinct braze_id) filter (where journey_event = 'conversion') as users_converted
    from {{ ref('fct_canvas_journey_events') }}
    where canvas_id is not null and canvas_step_id is not null
    group by app_group_id, canvas_id, canvas_variation_id, canvas_step_id
),

messaged as (
    select
        app_group_id,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        channel,
        {{ marts__funnel_columns() }}
    from {{ ref('fct_message_sends') }}
    where canvas_id is not null and canvas_step_id is not null
    group by app_group_id, canvas_id, canvas_variation_id, canvas_step_id, channel
),

steps as (
    select
        coalesce(reached.app_group_id, messaged.app_group_id) as app_group_id,
        coalesce(reached.canvas_id, messaged.canvas_id) as canvas_id,
        coalesce(reached.canvas_variation_id, messaged.canvas_variation_id)
            as canvas_variation_id,
        coalesce(reached.canvas_step_id, messaged.canvas_step_id) as canvas_step_id,
        messaged.channel,
        coalesce(reached.users_reached, 0) as users_reached,
        coalesce(reached.users_exited, 0) as users_exited,
        {%- for column in marts__funnel_column_names() %}
            messaged.{{ column }},
        {%- endfor %}
        coalesce(reached.users_converted, 0) as users_converted
    from reached
    full join messaged
        on
            reached.app_group_id is not distinct from messaged.app_group_id
            and reached.canvas_id = messaged.canvas_id
            and reached.canvas_variation_id is not distinct from messaged.canvas_variation_id
            and reached.canvas_step_id = messaged.canvas_step_id
),

named as (
    select
        steps.*,
        dim_canvases.canvas_name,
        dim_canvas_variations.canvas_variation_name,
        dim_canvas_steps.canvas_step_name,
        dim_canvas_steps.step_order
    from steps
    left join {{ ref('dim_canvases') }} as dim_canvases
        on
            steps.app_group_id is not distinct from dim_canvases.app_group_id
            and steps.canvas_id = dim_canvases.canvas_id
    left join {{ ref('dim_canvas_variations') }} as dim_canvas_variations
        on
            steps.app_group_id is not distinct from dim_canvas_variations.app_group_id
            and steps.canvas_id = dim_canvas_variations.canvas_id
            and steps.canvas_variation_id = dim_canvas_variations.canvas_variation_id
    left join {{ ref('dim_canvas_steps') }} as dim_canvas_steps
        on
            steps.app_group_id is not distinct from dim_canvas_steps.app_group_id
            and steps.canvas_id = dim_canvas_steps.canvas_id
            and steps.canvas_step_id = dim_canvas_steps.canvas_step_id
)

select
    app_group_id,
    canvas_id,
    canvas_name,
    canvas_variation_id,
    canvas_variation_name,
    canvas_step_id,
    canvas_step_name,
    step_order,
    channel,
    users_reached,
    users_exited,
    users_converted,
    {%- for column in marts__funnel_column_names() %}
        {{ column }},
    {%- endfor %}
    {{ marts__funnel_rates() }}
from named
