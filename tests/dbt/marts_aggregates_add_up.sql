-- What the daily marts and dim_users count adds up to what their facts hold: fails with one
-- row per total that differs (a day rebuilt twice, or never, shows here). An empty mart sums
-- to NULL where its empty fact counts 0: both are 0 (a workspace without that family).

{%- set email_outcomes = "('delivery', 'bounce', 'soft_bounce', 'deferral', 'mark_as_spam')" %}
{%- set sms_outcomes = "('send', 'carrier_send', 'delivery', 'delivery_failure', 'rejection')" %}
{#- every count of dim_users.message_event_counts (channel -> action -> events) -#}
{%- set dim_users_message_events -%}
    with
    users as (
        select message_event_counts from {{ ref('dim_users') }}
    ),
    per_channel as (
        {{ braze_currents__unnest_rows(
            'users', [], 'map_values(users.message_event_counts)', 'actions', 'channel_index'
        ) }}
    ),
    counts as (
        {{ braze_currents__unnest_rows(
            'per_channel', [], 'map_values(per_channel.actions)', 'n', 'action_index'
        ) }}
    )
    select sum(counts.n) from counts
{%- endset %}
{#- (what is counted, the mart's total, the facts' total) #}
{%- set checks = [
    (
        'agg_message_performance_daily events',
        "select sum(events) from " ~ ref('agg_message_performance_daily'),
        "select count(*) from " ~ ref('fct_message_engagement'),
    ),
    (
        'agg_message_performance_daily machine opens',
        "select sum(machine_opens) from " ~ ref('agg_message_performance_daily'),
        "select count(*) from " ~ ref('fct_message_engagement') ~ " where is_machine_open",
    ),
    (
        'agg_message_performance_daily conversions',
        "select sum(conversions) from " ~ ref('agg_message_performance_daily'),
        "select (select count(*) from " ~ ref('stg_braze_currents__campaign_conversions')
        ~ ") + (select count(*) from " ~ ref('stg_braze_currents__canvas_conversions') ~ ")",
    ),
    (
        'agg_canvas_journeys_daily events',
        "select sum(events) from " ~ ref('agg_canvas_journeys_daily'),
        "select count(*) from " ~ ref('fct_canvas_journey_events'),
    ),
    (
        'agg_purchases_daily purchases',
        "select sum(purchases) from " ~ ref('agg_purchases_daily'),
        "select count(*) from " ~ ref('fct_purchases'),
    ),
    (
        'agg_custom_events_daily events',
        "select sum(events) from " ~ ref('agg_custom_events_daily'),
        "select count(*) from " ~ ref('stg_braze_currents__custom_events'),
    ),
    (
        'agg_sessions_daily sessions',
        "select sum(sessions) from " ~ ref('agg_sessions_daily'),
        "select count(*) from " ~ ref('fct_sessions'),
    ),
    (
        'agg_email_deliverability_daily events',
        "select sum(processed + deferrals + spam_reports) from "
        ~ ref('agg_email_deliverability_daily'),
        "select count(*) from " ~ ref('fct_message_deliverability')
        ~ " where channel = 'email' and action in " ~ email_outcomes,
    ),
    (
        'agg_sms_deliverability_daily events',
        "select sum(sends + carrier_sends + deliveries + delivery_failures + rejections) from "
        ~ ref('agg_sms_deliverability_daily'),
        "select count(*) from " ~ ref('fct_message_deliverability')
        ~ " where channel = 'sms' and action in " ~ sms_outcomes,
    ),
    (
        'agg_push_deliverability_daily events',
        "select sum(sends + bounces) from " ~ ref('agg_push_deliverability_daily'),
        "select count(*) from " ~ ref('fct_message_deliverability')
        ~ " where channel = 'pushnotification' and action in ('send', 'bounce')",
    ),
    (
        'dim_users message events',
        dim_users_message_events,
        "select count(*) from " ~ ref('fct_message_engagement')
        ~ " where external_user_id is not null",
    ),
    (
        'dim_users purchases',
        "select sum(purchase_count) from " ~ ref('dim_users'),
        "select count(*) from " ~ ref('fct_purchases') ~ " where external_user_id is not null",
    ),
] %}

with

checks as (
    {%- for total, mart_sql, fact_sql in checks %}
        select
            '{{ total }}' as total,
            coalesce(({{ mart_sql }}), 0) as mart_total,
            coalesce(({{ fact_sql }}), 0) as fact_total
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

revenue as (
    -- Revenue per currency, in cents, so the order of the sums does not matter.
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
