-- Every users.messages.* event, of every channel (Braze's next channel too), with what the
-- marts derive from it: the channel and the action from the event type, the machine open as a
-- boolean, the recipient's domain. The fields come parsed from staging
-- (stg_braze_currents__message_events). A view: a query that filters on loaded_at or event_at
-- reads only the rows it keeps.

with

messages as (
    select
        *,
        {{ marts__message_channel('event_type') }} as channel,
        {{ marts__message_action('event_type') }} as action
    from {{ ref('stg_braze_currents__message_events') }}
)

select
    event_id,
    event_type,
    event_at,
    channel,
    action,
    campaign_id,
    campaign_name,
    message_variation_id,
    message_variation_name,
    canvas_id,
    canvas_name,
    canvas_variation_id,
    canvas_variation_name,
    canvas_step_id,
    canvas_step_name,
    dispatch_id,
    send_id,
    external_user_id,
    braze_id,
    device_id,
    -- The Braze workspace (app group) and app: one warehouse can hold several workspaces.
    app_group_id,
    app_id,
    platform,
    case
        when channel = 'email' and action = 'open'
            then try_cast(machine_open as {{ dbt.type_boolean() }})
    end as is_machine_open,
    -- The recipient's domain, not the address: the marts need no personal data.
    lower(
        coalesce(
            recipient_domain,
            nullif({{ dbt.split_part('email_address', "'@'", 2) }}, '')
        )
    ) as recipient_domain,
    from_domain,
    esp,
    ip_pool,
    sending_ip,
    mailbox_provider,
    carrier,
    provider_error_code,
    loaded_at
from messages
