{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}

select
    event_id,
    event_at,
    product_id,
    -- Codes as ISO 4217 writes them; revenue is only ever summed within one currency.
    nullif(upper(trim(currency)), '') as currency,
    price,
    purchase_properties,
    app_group_id,
    app_id,
    platform,
    external_user_id,
    braze_id,
    loaded_at
from {{ ref('stg_braze_currents__purchases') }}
where {{ braze_currents__new_loads() }}
