{{ config(**marts__daily_incremental('event_date')) }}

-- Email sends carry no ESP or sending domain, so the rates here are over the outcomes that do:
-- every email Braze hands to an ESP ends delivered, bounced or soft-bounced. Counts are of
-- events and add up across rows: for any roll-up, divide the summed counts.
{%- set rebuild = marts__days_to_rebuild([ref('fct_message_deliverability')]) %}

with

outcomes as (
    select
        cast(event_at as date) as event_date,
        app_group_id,
        sending_domain,
        esp,
        ip_pool,
        mailbox_provider,
        count(*) filter (where action = 'delivery') as deliveries,
        count(*) filter (where action = 'bounce') as hard_bounces,
        count(*) filter (where action = 'soft_bounce') as soft_bounces,
        count(*) filter (where action = 'deferral') as deferrals,
        count(*) filter (where action = 'mark_as_spam') as spam_reports,
        max(loaded_at) as loaded_at
    from {{ ref('fct_message_deliverability') }}
    where
        {{ rebuild }}
        and channel = 'email'
        and action in ('delivery', 'bounce', 'soft_bounce', 'deferral', 'mark_as_spam')
    group by all
)

select
    event_date,
    app_group_id,
    sending_domain,
    esp,
    ip_pool,
    mailbox_provider,
    deliveries + hard_bounces + soft_bounces as processed,
    deliveries,
    hard_bounces,
    soft_bounces,
    deferrals,
    spam_reports,
    {{ marts__ratio('deliveries', 'deliveries + hard_bounces + soft_bounces') }} as delivery_rate,
    {{ marts__ratio('hard_bounces', 'deliveries + hard_bounces + soft_bounces') }}
        as hard_bounce_rate,
    {{ marts__ratio('soft_bounces', 'deliveries + hard_bounces + soft_bounces') }}
        as soft_bounce_rate,
    {{ marts__ratio('deferrals', 'deliveries + hard_bounces + soft_bounces') }} as deferral_rate,
    {{ marts__ratio('spam_reports', 'deliveries') }} as spam_rate,
    loaded_at
from outcomes
order by event_date
