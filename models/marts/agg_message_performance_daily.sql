{{ config(**marts__daily_incremental('event_date')) }}

-- A run rebuilds the days that new loads brought message events or conversions for.
{%- set rebuild = marts__days_to_rebuild([
    ref('fct_message_engagement'),
    ref('stg_braze_currents__campaign_conversions'),
    ref('stg_braze_currents__canvas_conversions'),
]) %}

{#- What a conversion belongs to, and so which messages can be credited with it: a campaign
    variation, or a Canvas variation. #}
{%- set conversion_key %}{{ marts__conversion_key() }}{% endset %}

with

message_events as (
    select
        events.event_at,
        events.app_group_id,
        events.channel,
        events.campaign_id,
        events.message_variation_id,
        events.canvas_id,
        events.canvas_variation_id,
        events.canvas_step_id,
        events.braze_id,
        events.action,
        -- The funnel stage of the action (seeds/braze_currents__message_actions.csv).
        actions.funnel_stage,
        coalesce(events.is_machine_open, false) as is_machine_open,
        false as is_conversion,
        events.loaded_at
    from {{ ref('fct_message_engagement') }} as events
    left join {{ ref('braze_currents__message_actions') }} as actions
        on events.action = actions.action
    where {{ rebuild }}
),

conversions as (
    select
        *,
        {{ conversion_key }} as conversion_key
    from {{ ref('int_conversions') }}
    where {{ rebuild }}
),

-- Conversions carry no channel: each is credited to the last message of its campaign
-- variation (or Canvas variation) the user got before converting, with that message's channel
-- and Canvas step (of touches at the same time, the first by channel and step, so the choice
-- is the same on every engine). A conversion with no such message keeps a NULL channel.
touches as (
    select
        braze_id,
        {{ conversion_key }} as conversion_key,
        event_at,
        channel,
        canvas_step_id
    from {{ ref('fct_message_engagement') }}
    where
        braze_id in (select conversions.braze_id from conversions)
        and {{ conversion_key }} in (select conversions.conversion_key from conversions)
),

last_touches as (
    select
        conversions.event_id,
        conversions.event_at,
        conversions.app_group_id,
        touches.channel,
        conversions.campaign_id,
        conversions.message_variation_id,
        conversions.canvas_id,
        conversions.canvas_variation_id,
        coalesce(conversions.canvas_step_id, touches.canvas_step_id) as canvas_step_id,
        conversions.braze_id,
        conversions.loaded_at,
        row_number() over (
            partition by conversions.event_id
            order by
                touches.event_at desc nulls last,
                touches.channel asc nulls last,
                touches.canvas_step_id asc nulls last
        ) as touch_rank
    from conversions
    left join touches
        on
            conversions.braze_id = touches.braze_id
            and conversions.conversion_key = touches.conversion_key
            and conversions.event_at >= touches.event_at
),

credited_conversions as (
    select
        event_at,
        app_group_id,
        channel,
        campaign_id,
        message_variation_id,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        braze_id,
        cast(null as {{ dbt.type_string() }}) as action,
        cast(null as {{ dbt.type_string() }}) as funnel_stage,
        false as is_machine_open,
        true as is_conversion,
        loaded_at
    from last_touches
    where touch_rank = 1
),

all_events as (
    select * from message_events
    union all
    select * from credited_conversions
),

-- First per user, then per message: unique users are users with at least one such event.
per_user as (
    select
        cast(event_at as date) as event_date,
        app_group_id,
        channel,
        campaign_id,
        message_variation_id,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        braze_id,
        count(*) filter (where not is_conversion) as events,
        count(*) filter (where action = 'send') as sends,
        count(*) filter (where action = 'delivery') as deliveries,
        count(*) filter (where action = 'impression') as impressions,
        count(*) filter (where action = 'open') as opens,
        count(*) filter (where action = 'open' and is_machine_open) as machine_opens,
        count(*) filter (where action = 'read') as reads,
        count(*) filter (where funnel_stage = 'clicked') as clicks,
        count(*) filter (where action = 'bounce') as hard_bounces,
        count(*) filter (where action = 'soft_bounce') as soft_bounces,
        count(*) filter (where action = 'mark_as_spam') as spam_reports,
        count(*) filter (where action = 'unsubscribe') as unsubscribes,
        count(*) filter (where is_conversion) as conversions,
        max(loaded_at) as loaded_at
    from all_events
    group by all
),

per_message as (
    select
        event_date,
        app_group_id,
        channel,
        campaign_id,
        message_variation_id,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        cast(sum(events) as bigint) as events,
        cast(sum(sends) as bigint) as sends,
        cast(sum(deliveries) as bigint) as deliveries,
        cast(sum(impressions) as bigint) as impressions,
        cast(sum(opens) as bigint) as opens,
        cast(sum(machine_opens) as bigint) as machine_opens,
        cast(sum(reads) as bigint) as reads,
        cast(sum(clicks) as bigint) as clicks,
        cast(sum(hard_bounces) as bigint) as hard_bounces,
        cast(sum(soft_bounces) as bigint) as soft_bounces,
        cast(sum(spam_reports) as bigint) as spam_reports,
        cast(sum(unsubscribes) as bigint) as unsubscribes,
        cast(sum(conversions) as bigint) as conversions,
        count(*) filter (where sends > 0) as unique_recipients,
        count(*) filter (where deliveries > 0) as unique_delivered,
        count(*) filter (where impressions > 0) as unique_impressed,
        count(*) filter (where opens > 0) as unique_openers,
        count(*) filter (where opens > machine_opens) as unique_human_openers,
        count(*) filter (where reads > 0) as unique_readers,
        count(*) filter (where clicks > 0) as unique_clickers,
        count(*) filter (where hard_bounces > 0) as unique_hard_bounced,
        count(*) filter (where soft_bounces > 0) as unique_soft_bounced,
        count(*) filter (where spam_reports > 0) as unique_spam_reporters,
        count(*) filter (where unsubscribes > 0) as unique_unsubscribers,
        count(*) filter (where conversions > 0) as unique_converters,
        max(loaded_at) as loaded_at
    from per_user
    group by all
),

with_audience as (
    select
        *,
        -- The users the message reached, as far as the channel reports it: delivered where it
        -- reports deliveries, else sent, else shown (in-app messages, banners).
        case
            when deliveries > 0 then unique_delivered
            when sends > 0 then unique_recipients
            else unique_impressed
        end as audience_users
    from per_message
),

with_channel as (
    -- Which events the channel reports (seeds/braze_currents__channels.csv).
    select
        with_audience.*,
        channels.has_delivery_events,
        channels.has_open_events,
        channels.has_read_events,
        channels.has_click_events,
        channels.has_bounce_events,
        channels.has_soft_bounce_events,
        channels.has_spam_report_events,
        channels.has_unsubscribe_events
    from with_audience
    left join {{ ref('braze_currents__channels') }} as channels
        on with_audience.channel = channels.channel
)

select
    event_date,
    app_group_id,
    channel,
    campaign_id,
    message_variation_id,
    canvas_id,
    canvas_variation_id,
    canvas_step_id,
    events,
    sends,
    deliveries,
    impressions,
    opens,
    machine_opens,
    reads,
    clicks,
    hard_bounces,
    soft_bounces,
    spam_reports,
    unsubscribes,
    conversions,
    unique_recipients,
    unique_delivered,
    unique_impressed,
    audience_users,
    unique_openers,
    unique_human_openers,
    unique_readers,
    unique_clickers,
    unique_hard_bounced,
    unique_soft_bounced,
    unique_spam_reporters,
    unique_unsubscribers,
    unique_converters,
    -- A rate the channel cannot have is NULL, not 0; a channel the seed does not list has all.
    case
        when coalesce(has_delivery_events, true) then
            {{ marts__ratio('unique_delivered', 'unique_recipients') }}
    end as delivery_rate,
    case
        when coalesce(has_open_events, true) then
            {{ marts__ratio('unique_openers', 'audience_users') }}
    end as unique_open_rate,
    case
        when coalesce(has_open_events, true) then
            {{ marts__ratio('unique_human_openers', 'audience_users') }}
    end as human_open_rate,
    case
        when coalesce(has_read_events, true) then
            {{ marts__ratio('unique_readers', 'audience_users') }}
    end as read_rate,
    case
        when coalesce(has_click_events, true) then
            {{ marts__ratio('unique_clickers', 'audience_users') }}
    end as unique_click_rate,
    case
        when coalesce(has_open_events and has_click_events, true) then
            {{ marts__ratio('unique_clickers', 'unique_openers') }}
    end as click_to_open_rate,
    case
        when coalesce(has_bounce_events, true) then
            {{ marts__ratio('unique_hard_bounced', 'unique_recipients') }}
    end as hard_bounce_rate,
    case
        when coalesce(has_soft_bounce_events, true) then
            {{ marts__ratio('unique_soft_bounced', 'unique_recipients') }}
    end as soft_bounce_rate,
    case
        when coalesce(has_spam_report_events, true) then
            {{ marts__ratio('unique_spam_reporters', 'audience_users') }}
    end as spam_rate,
    case
        when coalesce(has_unsubscribe_events, true) then
            {{ marts__ratio('unique_unsubscribers', 'audience_users') }}
    end as unsubscribe_rate,
    {{ marts__ratio('unique_converters', 'audience_users') }} as conversion_rate,
    loaded_at
from with_channel
order by event_date
