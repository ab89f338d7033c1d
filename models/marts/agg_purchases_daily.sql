{{ config(**marts__daily_incremental('event_date')) }}

{%- set rebuild = marts__days_to_rebuild([ref('fct_purchases')]) %}

-- Revenue is summed within one currency, never across: a row is one day, workspace, product
-- and currency.

select
    cast(event_at as date) as event_date,
    app_group_id,
    product_id,
    currency,
    count(*) as purchases,
    count(distinct braze_id) as buyers,
    count(price) as priced_purchases,
    sum(price) as revenue,
    avg(price) as average_price,
    max(loaded_at) as loaded_at
from {{ ref('fct_purchases') }}
where {{ rebuild }}
group by all
order by event_date
