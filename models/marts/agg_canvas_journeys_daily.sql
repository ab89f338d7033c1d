{{ config(**marts__daily_incremental('event_date')) }}

-- A run rebuilds the days that new loads brought Canvas events for.
{%- set rebuild = marts__days_to_rebuild([ref('fct_canvas_journey_events')]) %}

with

journey_events as (
    select *
    from {{ ref('fct_canvas_journey_events') }}
    where {{ rebuild }}
),

per_user as (
    select
        cast(event_at as date) as event_date,
        app_group_id,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        experiment_split_id,
        braze_id,
        count(*) as events,
        count(*) filter (where journey_event = 'entry') as entries,
        count(*) filter (where journey_event = 'entry' and in_control_group) as control_entries,
        count(*) filter (where journey_event = 'progression') as progressions,
        count(*) filter (where exit_reason = 'matched_audience') as audience_exits,
        count(*) filter (where exit_reason = 'performed_event') as event_exits,
        count(*) filter (where journey_event = 'experiment_split_entry') as split_entries,
        count(*) filter (where journey_event = 'experiment_conversion')
            as experiment_conversions,
        count(*) filter (where journey_event = 'conversion') as conversions,
        max(loaded_at) as loaded_at
    from journey_events
    group by all
),

per_step as (
    select
        event_date,
        app_group_id,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        experiment_split_id,
        cast(sum(events) as bigint) as events,
        cast(sum(entries) as bigint) as entries,
        cast(sum(control_entries) as bigint) as control_entries,
        cast(sum(progressions) as bigint) as progressions,
        cast(sum(audience_exits) as bigint) as audience_exits,
        cast(sum(event_exits) as bigint) as event_exits,
        cast(sum(audience_exits + event_exits) as bigint) as exits,
        cast(sum(split_entries) as bigint) as split_entries,
        cast(sum(experiment_conversions) as bigint) as experiment_conversions,
        cast(sum(conversions) as bigint) as conversions,
        count(*) filter (where entries > 0) as entered_users,
        count(*) filter (where progressions > 0) as progressed_users,
        count(*) filter (where audience_exits + event_exits > 0) as exited_users,
        count(*) filter (where split_entries > 0) as split_users,
        count(*) filter (where experiment_conversions > 0) as experiment_converters,
        count(*) filter (where conversions > 0) as converters,
        max(loaded_at) as loaded_at
    from per_user
    group by all
)

select
    event_date,
    app_group_id,
    canvas_id,
    canvas_variation_id,
    canvas_step_id,
    experiment_split_id,
    events,
    entries,
    control_entries,
    entered_users,
    progressions,
    progressed_users,
    audience_exits,
    event_exits,
    exits,
    exited_users,
    split_entries,
    split_users,
    experiment_conversions,
    experiment_converters,
    conversions,
    converters,
    {{ marts__ratio('experiment_converters', 'split_users') }} as experiment_conversion_rate,
    {{ marts__ratio('converters', 'entered_users') }} as conversion_rate,
    loaded_at
from per_step
order by event_date
