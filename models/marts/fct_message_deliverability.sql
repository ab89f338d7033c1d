{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}

-- The delivery outcomes of messages (sends, deliveries, bounces, deferrals, spam reports,
-- carrier sends, failures, rejections) with what the provider said about the route they took.

with

new_events as (
    -- The actions the seed braze_currents__message_actions flags as delivery outcomes.
    select message_events.*
    from {{ ref('int_message_events') }} as message_events
    inner join {{ ref('braze_currents__message_actions') }} as actions
        on message_events.action = actions.action
    where {{ braze_currents__new_loads() }} and actions.is_delivery_outcome
),

-- The mailbox provider of an email recipient: the one Braze reported on the event (opens and
-- clicks carry it), else the provider of a well-known consumer domain (the seed
-- braze_currents__mailbox_providers: the domain itself, else its first label on any top-level
-- domain, `yahoo.*`), else 'Other' (business domains need an MX lookup the warehouse cannot
-- make).
with_provider as (
    select
        new_events.*,
        coalesce(
            nullif(new_events.mailbox_provider, ''),
            by_domain.mailbox_provider,
            by_label.mailbox_provider,
            case when new_events.recipient_domain is not null then 'Other' end
        ) as recipient_mailbox_provider
    from new_events
    left join {{ ref('braze_currents__mailbox_providers') }} as by_domain
        on new_events.recipient_domain = by_domain.domain
    left join {{ ref('braze_currents__mailbox_providers') }} as by_label
        on
            split_part(new_events.recipient_domain, '.', 1) || '.*' = by_label.domain
            and new_events.recipient_domain like '%.%'
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
    case when channel = 'email' then recipient_mailbox_provider end as mailbox_provider,
    carrier,
    provider_error_code,
    platform,
    loaded_at,
    app_group_id,
    app_id
from with_provider
