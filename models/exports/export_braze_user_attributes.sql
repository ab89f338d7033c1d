{{ config(materialized='view') }}

-- Shaped for scripts/export_to_braze.py --mode user_track --track-record-type user_attributes:
-- `external_id` identifies the user, every other column is a custom attribute (NULL values are
-- left out of the payload, so they never erase what Braze holds). A view: the days since the
-- last engagement are counted on the day of the export.

select
    external_user_id as external_id,
    -- Only users Braze already has: an export never creates a profile.
    true as _update_existing_only,
    -- Amounts to the cent, each in its own currency; a currency without a usable price is
    -- left out rather than sent as null.
    {{ braze_currents__map_round_values('revenue_by_currency', 2) }}
        as lifetime_revenue_by_currency,
    purchases_by_currency as lifetime_purchases_by_currency,
    purchase_count as lifetime_purchase_count,
    cast(last_purchase_at as date) as last_purchase_date,
    cast(last_engaged_at as date) as last_engagement_date,
    cast(
        {{ braze_currents__days_between('cast(last_engaged_at as date)', 'current_date') }}
        as bigint
    ) as days_since_last_engagement,
    most_engaged_channel,
    session_count as lifetime_session_count,
    device_count
from {{ ref('dim_users') }}
