-- Every users.messages.* event, of every channel (Braze's next channel too, which is why it
-- reads the event stream, not the typed models), with the fields the marts read parsed once
-- from `properties`, as Currents sends them: no derivation (int_message_events derives the
-- channel, the action and the recipient's domain). A view: a query that filters on loaded_at
-- or event_at parses only the rows it keeps.

with

events as (
    select *
    from {{ ref('stg_braze_currents__events') }}
    where event_type like 'users.messages.%'
),

parsed as (
    select
        *,
        {{ braze_currents__json_struct('properties', {
            'campaign_id': 'VARCHAR', 'campaign_name': 'VARCHAR',
            'message_variation_id': 'VARCHAR', 'message_variation_name': 'VARCHAR',
            'canvas_id': 'VARCHAR', 'canvas_name': 'VARCHAR',
            'canvas_variation_id': 'VARCHAR', 'canvas_variation_name': 'VARCHAR',
            'canvas_step_id': 'VARCHAR', 'canvas_step_name': 'VARCHAR',
            'dispatch_id': 'VARCHAR', 'send_id': 'VARCHAR', 'platform': 'VARCHAR',
            'machine_open': 'VARCHAR',
            'email_address': 'VARCHAR', 'recipient_domain': 'VARCHAR',
            'from_domain': 'VARCHAR', 'esp': 'VARCHAR', 'ip_pool': 'VARCHAR',
            'sending_ip': 'VARCHAR', 'mailbox_provider': 'VARCHAR',
            'carrier': 'VARCHAR', 'provider_error_code': 'VARCHAR'
        }) }} as p
    from events
)

select
    event_id,
    event_type,
    event_at,
    p.campaign_id,
    p.campaign_name,
    p.message_variation_id,
    p.message_variation_name,
    p.canvas_id,
    p.canvas_name,
    p.canvas_variation_id,
    p.canvas_variation_name,
    p.canvas_step_id,
    p.canvas_step_name,
    p.dispatch_id,
    p.send_id,
    external_user_id,
    braze_id,
    device_id,
    app_group_id,
    app_id,
    p.platform,
    p.machine_open,
    p.email_address,
    p.recipient_domain,
    p.from_domain,
    p.esp,
    p.ip_pool,
    p.sending_ip,
    p.mailbox_provider,
    p.carrier,
    p.provider_error_code,
    loaded_at
from parsed
