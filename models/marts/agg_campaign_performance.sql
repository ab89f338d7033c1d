-- Lifetime performance of each campaign message variation on each channel, with the latest
-- names: one row per workspace x campaign x message variation x channel, from one row per
-- message sent (fct_message_sends), so the rates count each message once over the whole
-- history.

with

per_variation as (
    select
        app_group_id,
        campaign_id,
        message_variation_id,
        channel,
        {{ marts__funnel_columns() }}
    from {{ ref('fct_message_sends') }}
    where campaign_id is not null
    group by app_group_id, campaign_id, message_variation_id, channel
),

named as (
    select
        per_variation.*,
        dim_campaigns.campaign_name,
        dim_message_variations.message_variation_name
    from per_variation
    left join {{ ref('dim_campaigns') }} as dim_campaigns
        on
            per_variation.app_group_id is not distinct from dim_campaigns.app_group_id
            and per_variation.campaign_id = dim_campaigns.campaign_id
    left join {{ ref('dim_message_variations') }} as dim_message_variations
        on
            per_variation.app_group_id is not distinct from dim_message_variations.app_group_id
            and per_variation.campaign_id = dim_message_variations.campaign_id
            and per_variation.message_variation_id = dim_message_variations.message_variation_id
)

select
    app_group_id,
    campaign_id,
    campaign_name,
    message_variation_id,
    message_variation_name,
    channel,
    {%- for column in marts__funnel_column_names() %}
        {{ column }},
    {%- endfor %}
    {{ marts__funnel_rates() }}
from named
