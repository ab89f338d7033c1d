-- Campaign and Canvas conversions in one shape, with the names they carry.

with

campaign_conversions as (
    select
        event_id,
        event_at,
        'campaign' as converted_in,
        app_group_id,
        campaign_id,
        campaign_name,
        message_variation_id,
        message_variation_name,
        cast(null as {{ dbt.type_string() }}) as canvas_id,
        cast(null as {{ dbt.type_string() }}) as canvas_name,
        cast(null as {{ dbt.type_string() }}) as canvas_variation_id,
        cast(null as {{ dbt.type_string() }}) as canvas_variation_name,
        cast(null as {{ dbt.type_string() }}) as canvas_step_id,
        cast(null as {{ dbt.type_string() }}) as canvas_step_name,
        conversion_behavior_index,
        external_user_id,
        braze_id,
        loaded_at
    from {{ ref('stg_braze_currents__campaign_conversions') }}
),

canvas_conversions as (
    select
        event_id,
        event_at,
        'canvas' as converted_in,
        app_group_id,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        cast(null as {{ dbt.type_string() }}) as campaign_name,
        cast(null as {{ dbt.type_string() }}) as message_variation_id,
        cast(null as {{ dbt.type_string() }}) as message_variation_name,
        canvas_id,
        canvas_name,
        canvas_variation_id,
        canvas_variation_name,
        canvas_step_id,
        canvas_step_name,
        conversion_behavior_index,
        external_user_id,
        braze_id,
        loaded_at
    from {{ ref('stg_braze_currents__canvas_conversions') }}
)

select * from campaign_conversions
union all
select * from canvas_conversions
