{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='external_user_id',
    on_schema_change='fail',
) }}

-- A run rebuilds the users that new loads brought events for, from everything known about them
-- (the facts are columnar tables; only the rare subscription events are parsed again).

{%- set session_start = marts__session_models()
    | selectattr('session_event', 'equalto', 'start') | first %}

with

touched_users as (
    select distinct external_user_id
    from {{ ref('stg_braze_currents__events') }}
    where {{ braze_currents__new_loads() }} and external_user_id is not null
),

events as (
    select
        external_user_id,
        event_type,
        event_at,
        event_id,
        braze_id,
        device_id,
        timezone,
        loaded_at
    from {{ ref('stg_braze_currents__events') }}
    where external_user_id in (select touched_users.external_user_id from touched_users)
),

profiles as (
    select
        external_user_id,
        arg_max(braze_id, event_at) as braze_id,
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
        arg_max(timezone, event_at) filter (where timezone is not null) as timezone,
        count(distinct device_id) as device_count,
        count(*) filter (where event_type = '{{ session_start.event_type }}') as session_count,
        max(loaded_at) as loaded_at
    from events
    group by external_user_id
),

message_events as (
    -- Engagements: the actions the seed braze_currents__message_actions flags, machine opens
    -- excepted.
    select
        message_events.external_user_id,
        message_events.channel,
        message_events.action,
        message_events.event_at,
        coalesce(actions.is_engagement, false)
        and not coalesce(message_events.is_machine_open, false) as is_engagement
    from {{ ref('fct_message_engagement') }} as message_events
    left join {{ ref('braze_currents__message_actions') }} as actions
        on message_events.action = actions.action
    where
        message_events.external_user_id
        in (select touched_users.external_user_id from touched_users)
),

channel_actions as (
    select
        external_user_id,
        channel,
        action,
        count(*) as events,
        count(*) filter (where is_engagement) as engagements,
        max(event_at) filter (where is_engagement) as last_engaged_at
    from message_events
    group by external_user_id, channel, action
),

channels as (
    select
        external_user_id,
        channel,
        map_from_entries(list({ 'key': action, 'value': events } order by action)) as action_counts,
        sum(engagements) as engagements,
        max(last_engaged_at) as last_engaged_at
    from channel_actions
    group by external_user_id, channel
),

messaging as (
    select
        external_user_id,
        map_from_entries(list({ 'key': channel, 'value': action_counts } order by channel))
            as message_event_counts,
        map_from_entries(
            list({ 'key': channel, 'value': last_engaged_at } order by channel)
            filter (where last_engaged_at is not null)
        ) as last_engaged_at_by_channel,
        max(last_engaged_at) as last_engaged_at,
        {%- for channel in marts__flat_channels() %}
            coalesce(sum(engagements) filter (where channel = '{{ channel }}'), 0)::bigint
                as {{ channel }}_engagements,
        {%- endfor %}
        -- Ties go to the channel first in alphabetical order, so the answer is stable.
        first(channel order by engagements desc, channel asc) filter (where engagements > 0)
            as most_engaged_channel
    from channels
    group by external_user_id
),

currencies as (
    select
        external_user_id,
        coalesce(currency, 'unknown') as currency,
        count(*) as purchases,
        sum(price) as revenue,
        min(event_at) as first_purchase_at,
        max(event_at) as last_purchase_at
    from {{ ref('fct_purchases') }}
    where external_user_id in (select touched_users.external_user_id from touched_users)
    group by external_user_id, coalesce(currency, 'unknown')
),

purchasing as (
    select
        external_user_id,
        sum(purchases)::bigint as purchase_count,
        map_from_entries(list({ 'key': currency, 'value': purchases } order by currency))
            as purchases_by_currency,
        map_from_entries(list({ 'key': currency, 'value': revenue } order by currency))
            as revenue_by_currency,
        min(first_purchase_at) as first_purchase_at,
        max(last_purchase_at) as last_purchase_at
    from currencies
    group by external_user_id
),

-- The states in order, latest first (the event id breaks a tie in time).
global_states as (
    select
        external_user_id,
        channel,
        subscription_status,
        row_number() over (
            partition by external_user_id, channel
            order by event_at desc, event_id desc
        ) as recency
    from {{ ref('stg_braze_currents__global_subscription_state_changes') }}
    where
        external_user_id in (select touched_users.external_user_id from touched_users)
        and channel is not null
),

group_states as (
    select
        external_user_id,
        subscription_group_id,
        subscription_status,
        row_number() over (
            partition by external_user_id, subscription_group_id
            order by event_at desc, event_id desc
        ) as recency
    from {{ ref('stg_braze_currents__subscription_group_state_changes') }}
    where
        external_user_id in (select touched_users.external_user_id from touched_users)
        and subscription_group_id is not null
),

global_subscriptions as (
    select
        external_user_id,
        map_from_entries(list({ 'key': channel, 'value': subscription_status } order by channel))
            as global_subscription_states
    from global_states
    where recency = 1
    group by external_user_id
),

group_subscriptions as (
    select
        external_user_id,
        map_from_entries(
            list(
                { 'key': subscription_group_id, 'value': subscription_status }
                order by subscription_group_id
            )
        ) as subscription_group_states
    from group_states
    where recency = 1
    group by external_user_id
)

select
    profiles.external_user_id,
    profiles.braze_id,
    profiles.first_event_at,
    profiles.last_event_at,
    profiles.timezone,
    profiles.device_count,
    profiles.session_count,
    messaging.message_event_counts,
    messaging.last_engaged_at_by_channel,
    messaging.last_engaged_at,
    messaging.most_engaged_channel,
    coalesce(purchasing.purchase_count, 0) as purchase_count,
    purchasing.purchases_by_currency,
    purchasing.revenue_by_currency,
    purchasing.first_purchase_at,
    purchasing.last_purchase_at,
    global_subscriptions.global_subscription_states,
    group_subscriptions.subscription_group_states,
    profiles.loaded_at,
    -- The maps above, flat for the common channels (BI tools handle maps poorly).
    {%- for channel in marts__flat_channels() %}
        coalesce(messaging.message_event_counts['{{ channel }}']['send'], 0)::bigint
            as {{ channel }}_sends,
        coalesce(messaging.{{ channel }}_engagements, 0)::bigint as {{ channel }}_engagements,
        messaging.last_engaged_at_by_channel['{{ channel }}'] as {{ channel }}_last_engaged_at,
    {%- endfor %}
    global_subscriptions.global_subscription_states['email'] as email_subscription_state,
    global_subscriptions.global_subscription_states['sms'] as sms_subscription_state
from profiles
left join messaging on profiles.external_user_id = messaging.external_user_id
left join purchasing on profiles.external_user_id = purchasing.external_user_id
left join global_subscriptions
    on profiles.external_user_id = global_subscriptions.external_user_id
left join group_subscriptions
    on profiles.external_user_id = group_subscriptions.external_user_id
