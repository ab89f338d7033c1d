{{ config(**marts__daily_incremental('event_date')) }}

{%- set rebuild = marts__days_to_rebuild([ref('fct_message_deliverability')]) %}

with

outcomes as (
    select
        cast(event_at as date) as event_date,
        app_group_id,
        platform,
        count(*) filter (where action = 'send') as sends,
        count(*) filter (where action = 'bounce') as bounces,
        max(loaded_at) as loaded_at
    from {{ ref('fct_message_deliverability') }}
    where
        {{ rebuild }}
        and channel = 'pushnotification'
        and action in ('send', 'bounce')
    group by all
)

select
    event_date,
    app_group_id,
    platform,
    sends,
    bounces,
    {{ marts__ratio('bounces', 'sends') }} as bounce_rate,
    loaded_at
from outcomes
order by event_date
