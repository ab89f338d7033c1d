-- What the daily marts and dim_users count adds up to what their facts hold: fails with one
-- row per total that differs (a day rebuilt twice, or never, shows here).

with

checks as (
    select
        'agg_message_performance_daily events' as total,
        (select sum(events) from {{ ref('agg_message_performance_daily') }}) as mart_total,
        (select count(*) from {{ ref('fct_message_engagement') }}) as fact_total
    union all
    select
        'agg_message_performance_daily machine opens' as total,
        (select sum(machine_opens) from {{ ref('agg_message_performance_daily') }}) as mart_total,
        (
            select count(*) from {{ ref('fct_message_engagement') }}
            where is_machine_open
        ) as fact_total
    union all
    select
        'agg_message_performance_daily conversions' as total,
        (select sum(conversions) from {{ ref('agg_message_performance_daily') }}) as mart_total,
        (select count(*) from {{ ref('stg_braze_currents__campaign_conversions') }})
        + (select count(*) from {{ ref('stg_braze_currents__canvas_conversions') }})
            as fact_total
    union all
    select
        'agg_canvas_journeys_daily events' as total,
        (select sum(events) from {{ ref('agg_canvas_journeys_daily') }}) as mart_total,
        (select count(*) from {{ ref('fct_canvas_journey_events') }}) as fact_total
    union all
    select
        'agg_purchases_daily purchases' as total,
        (select sum(purchases) from {{ ref('agg_purchases_daily') }}) as mart_total,
        (select count(*) from {{ ref('fct_purchases') }}) as fact_total
    union all
    select
        'agg_custom_events_daily events' as total,
        (select sum(events) from {{ ref('agg_custom_events_daily') }}) as mart_total,
        (select count(*) from {{ ref('stg_braze_currents__custom_events') }}) as fact_total
    union all
    select
        'agg_sessions_daily sessions' as total,
        (select sum(sessions) from {{ ref('agg_sessions_daily') }}) as mart_total,
        (select count(*) from {{ ref('fct_sessions') }}) as fact_total
    union all
    select
        'agg_email_deliverability_daily events' as total,
        (
            select sum(processed + deferrals + spam_reports)
            from {{ ref('agg_email_deliverability_daily') }}
        ) as mart_total,
        (
            select count(*)
            from {{ ref('fct_message_deliverability') }}
            where
                channel = 'email'
                and action in ('delivery', 'bounce', 'soft_bounce', 'deferral', 'mark_as_spam')
        ) as fact_total
    union all
    select
        'agg_sms_deliverability_daily events' as total,
        (
            select sum(sends + carrier_sends + deliveries + delivery_failures + rejections)
            from {{ ref('agg_sms_deliverability_daily') }}
        ) as mart_total,
        (
            select count(*)
            from {{ ref('fct_message_deliverability') }}
            where
                channel = 'sms'
                and action in ('send', 'carrier_send', 'delivery', 'delivery_failure', 'rejection')
        ) as fact_total
    union all
    select
        'agg_push_deliverability_daily events' as total,
        (
            select sum(sends + bounces) from {{ ref('agg_push_deliverability_daily') }}
        ) as mart_total,
        (
            select count(*)
            from {{ ref('fct_message_deliverability') }}
            where channel = 'pushnotification' and action in ('send', 'bounce')
        ) as fact_total
    union all
    select
        'dim_users message events' as total,
        (
            select sum(counts.n)
            from (
                select unnest(map_values(actions)) as n
                from (
                    select unnest(map_values(message_event_counts)) as actions
                    from {{ ref('dim_users') }}
                )
            ) as counts
        ) as mart_total,
        (
            select count(*)
            from {{ ref('fct_message_engagement') }}
            where external_user_id is not null
        ) as fact_total
    union all
    select
        'dim_users purchases' as total,
        (select sum(purchase_count) from {{ ref('dim_users') }}) as mart_total,
        (
            select count(*) from {{ ref('fct_purchases') }}
            where external_user_id is not null
        ) as fact_total
),

revenue as (
    -- Revenue per currency, in cents so that summing in another order does not matter.
    select
        'agg_purchases_daily revenue in ' || coalesce(currency, 'no currency') as total,
        round(sum(revenue) * 100) as mart_total,
        null as fact_total
    from {{ ref('agg_purchases_daily') }}
    group by currency
    union all
    select
        'agg_purchases_daily revenue in ' || coalesce(currency, 'no currency') as total,
        null as mart_total,
        round(sum(price) * 100) as fact_total
    from {{ ref('fct_purchases') }}
    group by currency
),

revenue_checks as (
    select
        total,
        max(mart_total) as mart_total,
        max(fact_total) as fact_total
    from revenue
    group by total
)

select * from checks
where mart_total is distinct from fact_total
union all
select * from revenue_checks
where mart_total is distinct from fact_total
