{{ config(**marts__entity_incremental('external_user_id')) }}

-- A run rebuilds the users that new loads brought events for, from everything known about them
-- (the facts are columnar tables; only the rare subscription events are parsed again); on
-- Spark, every user of the buckets (`entity_bucket`) of those (marts__entity_incremental).
{%- set rebuilds_user = marts__rebuilds_entity(
    'external_user_id', 'select touched_users.external_user_id from touched_users') %}
{%- set rebuilds_user_events = marts__rebuilds_entity(
    'message_events.external_user_id', 'select touched_users.external_user_id from touched_users') %}

{%- set session_start = marts__session_models()
    | selectattr('session_event', 'equalto', 'start') | first %}

with

{% if is_incremental() -%}
    touched_users as (
        select distinct external_user_id
        from {{ ref('stg_braze_currents__events') }}
        where {{ braze_currents__new_loads() }} and external_user_id is not null
    ),
{%- endif %}

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
    where external_user_id is not null and {{ rebuilds_user }}
),

profiles as (
    select
        external_user_id,
        {{ braze_currents__max_by_not_null('braze_id', 'event_at') }} as braze_id,
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
        {{ braze_currents__max_by_not_null('timezone', 'event_at') }} as timezone,
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
    where message_events.external_user_id is not null and {{ rebuilds_user_events }}
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
        {{ braze_currents__map_agg_sorted('action', 'events') }} as action_counts,
        sum(engagements) as engagements,
        max(last_engaged_at) as last_engaged_at
    from channel_actions
    group by external_user_id, channel
),

messaging as (
    select
        external_user_id,
        {{ braze_currents__map_agg_sorted('channel', 'action_counts') }} as message_event_counts,
        {{ braze_currents__map_agg_sorted(
            'channel', 'last_engaged_at', 'last_engaged_at is not null') }}
            as last_engaged_at_by_channel,
        max(last_engaged_at) as last_engaged_at,
        {%- for channel in marts__flat_channels() %}
            cast(coalesce(sum(engagements) filter (where channel = '{{ channel }}'), 0) as bigint)
                as {{ channel }}_engagements,
        {%- endfor %}
        -- Ties go to the channel first in alphabetical order, so the answer is stable; NULL
        -- when no channel has an engagement.
        {{ braze_currents__min_by(
            'case when engagements > 0 then channel end',
            braze_currents__ordering(['-engagements', 'channel'])) }} as most_engaged_channel
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
    where external_user_id is not null and {{ rebuilds_user }}
    group by external_user_id, coalesce(currency, 'unknown')
),

purchasing as (
    select
        external_user_id,
        cast(sum(purchases) as bigint) as purchase_count,
        {{ braze_currents__map_agg_sorted('currency', 'purchases') }} as purchases_by_currency,
        {{ braze_currents__map_agg_sorted('currency', 'revenue') }} as revenue_by_currency,
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
        {{ rebuilds_user }}
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
        {{ rebuilds_user }}
        and subscription_group_id is not null
),

global_subscriptions as (
    select
        external_user_id,
        {{ braze_currents__map_agg_sorted('channel', 'subscription_status') }}
            as global_subscription_states
    from global_states
    where recency = 1
    group by external_user_id
),

group_subscriptions as (
    select
        external_user_id,
        {{ braze_currents__map_agg_sorted('subscription_group_id', 'subscription_status') }}
            as subscription_group_states
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
        {%- set channel_counts = braze_currents__map_get(
            'messaging.message_event_counts', "'" ~ channel ~ "'") %}
        cast(coalesce({{ braze_currents__map_get(channel_counts, "'send'") }}, 0) as bigint)
            as {{ channel }}_sends,
        cast(coalesce(messaging.{{ channel }}_engagements, 0) as bigint)
            as {{ channel }}_engagements,
        {{ braze_currents__map_get('messaging.last_engaged_at_by_channel', "'" ~ channel ~ "'") }}
            as {{ channel }}_last_engaged_at,
    {%- endfor %}
    {{ braze_currents__map_get('global_subscriptions.global_subscription_states', "'email'") }}
        as email_subscription_state,
    {{ braze_currents__map_get('global_subscriptions.global_subscription_states', "'sms'") }}
        as sms_subscription_state,
    {{ marts__entity_bucket('profiles.external_user_id') }} as entity_bucket
from profiles
left join messaging on profiles.external_user_id = messaging.external_user_id
left join purchasing on profiles.external_user_id = purchasing.external_user_id
left join global_subscriptions
    on profiles.external_user_id = global_subscriptions.external_user_id
left join group_subscriptions
    on profiles.external_user_id = group_subscriptions.external_user_id
