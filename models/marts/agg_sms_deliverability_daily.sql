{{ config(**marts__daily_incremental('event_date')) }}

-- Each SMS outcome event is counted in the row of its day, carrier and provider error code
-- (NULL for events without an error), so counts add up across rows: a rate by carrier or by
-- error code is a ratio of sums (see the analyst's guide).
{%- set rebuild = marts__days_to_rebuild([ref('fct_message_deliverability')]) %}

select
    cast(event_at as date) as event_date,
    app_group_id,
    carrier,
    provider_error_code,
    count(*) filter (where action = 'send') as sends,
    count(*) filter (where action = 'carrier_send') as carrier_sends,
    count(*) filter (where action = 'delivery') as deliveries,
    count(*) filter (where action = 'delivery_failure') as delivery_failures,
    count(*) filter (where action = 'rejection') as rejections,
    max(loaded_at) as loaded_at
from {{ ref('fct_message_deliverability') }}
where
    {{ rebuild }}
    and channel = 'sms'
    and action in ('send', 'carrier_send', 'delivery', 'delivery_failure', 'rejection')
group by all
order by event_date
