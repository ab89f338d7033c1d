{#- The name dimensions (dim_campaigns, dim_canvases, ...): what the events call a campaign,
    Canvas, step or variation. Every message event, Canvas event and conversion that names one
    is an observation of its name at the time of the event. -#}

{#- Every observation of a campaign, Canvas, step or variation: one row per event that has one,
    with its names as the event carried them (NULL where it carried none). -#}
{% macro marts__name_observations() -%}
    select
        event_at,
        channel,
        braze_id,
        campaign_id,
        campaign_name,
        message_variation_id,
        message_variation_name,
        canvas_id,
        canvas_name,
        canvas_variation_id,
        canvas_variation_name,
        canvas_step_id,
        canvas_step_name
    from {{ ref('fct_message_engagement') }}
    where campaign_id is not null or canvas_id is not null
    union all
    select
        event_at,
        null as channel,
        braze_id,
        null as campaign_id,
        null as campaign_name,
        null as message_variation_id,
        null as message_variation_name,
        canvas_id,
        canvas_name,
        canvas_variation_id,
        canvas_variation_name,
        canvas_step_id,
        canvas_step_name
    from {{ ref('fct_canvas_journey_events') }}
    where canvas_id is not null
    union all
    select
        event_at,
        null as channel,
        braze_id,
        campaign_id,
        campaign_name,
        message_variation_id,
        message_variation_name,
        canvas_id,
        canvas_name,
        canvas_variation_id,
        canvas_variation_name,
        canvas_step_id,
        canvas_step_name
    from {{ ref('int_conversions') }}
{%- endmacro %}

{#- One row per value of `keys` (the last key not NULL) in the name observations: its latest
    name (the name of the newest event that carried one; the greater name on a tie), when the
    events first and last mentioned it, and the channels its messages went out on. -#}
{% macro marts__name_dimension(keys, name) -%}
    select
        {{ keys | join(', ') }},
        {{ braze_currents__max_by_not_null(name, braze_currents__ordering(['event_at', name])) }}
            as {{ name }},
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        {{ braze_currents__array_agg_distinct_sorted('channel') }} as channels
    from ({{ marts__name_observations() }}) as observations
    where {{ keys[-1] }} is not null
    group by {{ keys | join(', ') }}
{%- endmacro %}
