{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}

-- The delivery outcomes of messages (sends, deliveries, bounces, deferrals, spam reports,
-- carrier sends, failures, rejections) with what the provider said about the route they took.

with

new_events as (
    select *
    from {{ ref('int_message_events') }}
    where
        {{ braze_currents__new_loads() }}
        and action in (
            'send', 'delivery', 'bounce', 'soft_bounce', 'deferral', 'mark_as_spam',
            'carrier_send', 'delivery_failure', 'failure', 'rejection'
        )
)

select
    event_id,
    event_at,
    channel,
    action,
    dispatch_id,
    campaign_id,
    canvas_id,
    canvas_step_id,
    external_user_id,
    braze_id,
    from_domain as sending_domain,
    esp,
    ip_pool,
    sending_ip,
    recipient_domain,
    case
        when channel = 'email'
            then {{ marts__mailbox_provider('mailbox_provider', 'recipient_domain') }}
    end as mailbox_provider,
    carrier,
    provider_error_code,
    platform,
    loaded_at
from new_events
