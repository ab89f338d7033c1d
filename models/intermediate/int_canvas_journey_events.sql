-- Every step of a user's way through a Canvas, in one shape: entries, step progressions, exits
-- (with the reason), experiment-path entries and conversions, Canvas conversions.

with

entries as (
    select
        event_id,
        event_at,
        'entry' as journey_event,
        cast(null as varchar) as exit_reason,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        cast(null as varchar) as experiment_step_id,
        cast(null as varchar) as experiment_split_id,
        in_control_group,
        external_user_id,
        braze_id,
        loaded_at
    from {{ ref('stg_braze_currents__canvas_entries') }}
),

progressions as (
    select
        event_id,
        event_at,
        'progression' as journey_event,
        cast(null as varchar) as exit_reason,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        cast(null as varchar) as experiment_step_id,
        cast(null as varchar) as experiment_split_id,
        cast(null as boolean) as in_control_group,
        external_user_id,
        braze_id,
        loaded_at
    from {{ ref('stg_braze_currents__canvas_step_progressions') }}
),

audience_exits as (
    select
        event_id,
        event_at,
        'exit' as journey_event,
        'matched_audience' as exit_reason,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        cast(null as varchar) as experiment_step_id,
        cast(null as varchar) as experiment_split_id,
        cast(null as boolean) as in_control_group,
        external_user_id,
        braze_id,
        loaded_at
    from {{ ref('stg_braze_currents__canvas_audience_exits') }}
),

event_exits as (
    select
        event_id,
        event_at,
        'exit' as journey_event,
        'performed_event' as exit_reason,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        cast(null as varchar) as experiment_step_id,
        cast(null as varchar) as experiment_split_id,
        cast(null as boolean) as in_control_group,
        external_user_id,
        braze_id,
        loaded_at
    from {{ ref('stg_braze_currents__canvas_event_exits') }}
),

split_entries as (
    select
        event_id,
        event_at,
        'experiment_split_entry' as journey_event,
        cast(null as varchar) as exit_reason,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        experiment_step_id,
        experiment_split_id,
        in_control_group,
        external_user_id,
        braze_id,
        loaded_at
    from {{ ref('stg_braze_currents__canvas_experiment_step_split_entries') }}
),

experiment_conversions as (
    select
        event_id,
        event_at,
        'experiment_conversion' as journey_event,
        cast(null as varchar) as exit_reason,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        experiment_step_id,
        experiment_split_id,
        cast(null as boolean) as in_control_group,
        external_user_id,
        braze_id,
        loaded_at
    from {{ ref('stg_braze_currents__canvas_experiment_step_conversions') }}
),

conversions as (
    select
        event_id,
        event_at,
        'conversion' as journey_event,
        cast(null as varchar) as exit_reason,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        cast(null as varchar) as experiment_step_id,
        cast(null as varchar) as experiment_split_id,
        cast(null as boolean) as in_control_group,
        external_user_id,
        braze_id,
        loaded_at
    from {{ ref('stg_braze_currents__canvas_conversions') }}
)

select * from entries
union all
select * from progressions
union all
select * from audience_exits
union all
select * from event_exits
union all
select * from split_entries
union all
select * from experiment_conversions
union all
select * from conversions
