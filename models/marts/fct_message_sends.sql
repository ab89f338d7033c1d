{{ config(**marts__entity_incremental('user_message_key')) }}

-- One row per message sent to a user: the events of one dispatch (`dispatch_id`, else
-- `send_id`) of one campaign variation or Canvas step and variation, on one channel, in one
-- workspace (`app_group_id`), to one user (`braze_id`); where the events carry neither id,
-- every event of that user and message is one row. Each outcome has its flag and its first
-- time, so funnels, lifetime rates and user x campaign questions are plain aggregates.
--
-- Conversions are credited last-touch: to the user's last message of the conversion's campaign
-- variation (or Canvas variation) before it, if it came within the channel's attribution
-- window (the var braze_currents_attribution_window_days). A conversion outside every window
-- is counted in agg_message_performance_daily, not here.
--
-- Incremental: a run rebuilds, from their whole history, every message of each user and
-- campaign or Canvas variation (`user_message_key`) that new loads brought an event or a
-- conversion for; so which message a conversion is credited to is the same as in a full build.
-- On Spark it rebuilds every message of the users in the bucket (`entity_bucket`, of
-- `braze_id`) of such a user (marts__entity_incremental).

{%- set message_key %}{{ marts__conversion_key() }}{% endset %}
{%- set user_message_key -%}
    md5(coalesce(braze_id, '') || '|' || coalesce({{ message_key }}, 'channel ' || channel))
{%- endset %}
{%- set new_user_keys = 'select new_keys.user_key from new_keys' %}
{%- set new_message_keys = 'select new_keys.user_message_key from new_keys' %}
{%- set attribution_window_days = marts__attribution_window_days('channel') %}

with

conversion_events as (
    -- Conversions have no channel: their key is their campaign or Canvas variation.
    select
        *,
        cast(null as {{ dbt.type_string() }}) as channel
    from {{ ref('int_conversions') }}
),

{% if is_incremental() -%}
    new_keys as (
        select distinct
            coalesce(braze_id, '') as user_key,
            {{ user_message_key }} as user_message_key
        from {{ ref('fct_message_engagement') }}
        where {{ braze_currents__new_loads() }}
        union
        select distinct
            coalesce(braze_id, '') as user_key,
            {{ user_message_key }} as user_message_key
        from conversion_events
        where {{ braze_currents__new_loads() }}
    ),
{%- endif %}

message_events as (
    -- Each event with its funnel stage (seeds/braze_currents__message_actions.csv).
    select
        message_events.*,
        actions.funnel_stage,
        {{ user_message_key }} as user_message_key
    from {{ ref('fct_message_engagement') }} as message_events
    left join {{ ref('braze_currents__message_actions') }} as actions
        on message_events.action = actions.action
    where
        {{ marts__rebuilds_entity("coalesce(message_events.braze_id, '')", new_user_keys) }}
),

messages as (
    select
        md5(
            concat_ws(
                '|', app_group_id, channel, campaign_id, message_variation_id, canvas_id,
                canvas_variation_id, canvas_step_id, braze_id, coalesce(dispatch_id, send_id)
            )
        ) as send_key,
        user_message_key,
        app_group_id,
        channel,
        campaign_id,
        message_variation_id,
        canvas_id,
        canvas_variation_id,
        canvas_step_id,
        coalesce(dispatch_id, send_id) as dispatch_id,
        braze_id,
        max(external_user_id) as external_user_id,
        min(event_at) as first_event_at,
        min(event_at) filter (where funnel_stage = 'sent') as sent_at,
        min(event_at) filter (where funnel_stage = 'delivered') as delivered_at,
        min(event_at) filter (where funnel_stage = 'impressed') as impressed_at,
        min(event_at) filter (where funnel_stage = 'opened') as opened_at,
        min(event_at) filter (
            where funnel_stage = 'opened' and not coalesce(is_machine_open, false)
        ) as human_opened_at,
        min(event_at) filter (where funnel_stage = 'clicked') as clicked_at,
        min(event_at) filter (where funnel_stage = 'bounced') as bounced_at,
        min(event_at) filter (where funnel_stage = 'soft_bounced') as soft_bounced_at,
        min(event_at) filter (where funnel_stage = 'spam_reported') as spam_reported_at,
        min(event_at) filter (where funnel_stage = 'unsubscribed') as unsubscribed_at,
        count(*) as events,
        max(loaded_at) as loaded_at
    from message_events
    where {{ marts__rebuilds_key('user_message_key', new_message_keys) }}
    group by all
),

conversions as (
    select
        event_id,
        event_at,
        {{ user_message_key }} as user_message_key,
        loaded_at
    from conversion_events
    where
        {{ marts__rebuilds_entity("coalesce(braze_id, '')", new_user_keys) }}
        and {{ marts__rebuilds_key(user_message_key, new_message_keys) }}
),

candidates as (
    -- Each conversion and the user's messages of its variation before it, the last first (on
    -- a tie in time, the greater send_key, so the choice is stable).
    select
        messages.send_key,
        messages.channel,
        messages.first_event_at,
        conversions.event_at,
        conversions.loaded_at,
        row_number() over (
            partition by conversions.event_id
            order by messages.first_event_at desc, messages.send_key desc
        ) as recency
    from conversions
    inner join messages
        on
            conversions.user_message_key = messages.user_message_key
            and conversions.event_at >= messages.first_event_at
),

credited as (
    select
        send_key,
        channel,
        first_event_at,
        event_at,
        loaded_at
    from candidates
    where recency = 1
),

converted as (
    select
        send_key,
        min(event_at) as converted_at,
        count(*) as conversions,
        max(loaded_at) as loaded_at
    from credited
    where
        event_at
        <= {{ braze_currents__add_days('first_event_at', attribution_window_days) }}
    group by send_key
)

select
    messages.send_key,
    messages.user_message_key,
    messages.app_group_id,
    messages.channel,
    messages.campaign_id,
    messages.message_variation_id,
    messages.canvas_id,
    messages.canvas_variation_id,
    messages.canvas_step_id,
    messages.dispatch_id,
    messages.braze_id,
    messages.external_user_id,
    messages.first_event_at,
    messages.sent_at,
    messages.delivered_at,
    messages.impressed_at,
    messages.opened_at,
    messages.human_opened_at,
    messages.clicked_at,
    messages.bounced_at,
    messages.soft_bounced_at,
    messages.spam_reported_at,
    messages.unsubscribed_at,
    converted.converted_at,
    messages.sent_at is not null as is_sent,
    messages.delivered_at is not null as is_delivered,
    messages.impressed_at is not null as is_impressed,
    messages.opened_at is not null as is_opened,
    messages.human_opened_at is not null as is_human_opened,
    messages.clicked_at is not null as is_clicked,
    messages.bounced_at is not null as is_bounced,
    messages.soft_bounced_at is not null as is_soft_bounced,
    messages.spam_reported_at is not null as is_spam_reported,
    messages.unsubscribed_at is not null as is_unsubscribed,
    converted.converted_at is not null as is_converted,
    coalesce(converted.conversions, 0) as conversions,
    {{ marts__attribution_window_days('messages.channel') }} as attribution_window_days,
    messages.events,
    greatest(messages.loaded_at, converted.loaded_at) as loaded_at,
    {{ marts__entity_bucket('messages.braze_id') }} as entity_bucket
from messages
left join converted on messages.send_key = converted.send_key
