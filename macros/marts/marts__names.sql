{#- The name dimensions (dim_campaigns, dim_canvases, ...): what the events call a campaign,
    Canvas, step or variation. Every message event, Canvas event and conversion that names one
    is an observation of its name at the time of the event. -#}

{#- The columns of a name observation that say what it names: the workspace, the channel, and the
    ids and names of campaign, message variation, Canvas, Canvas variation and step. -#}
{% macro marts__name_columns() -%}
    {{ return(['app_group_id', 'channel', 'campaign_id', 'campaign_name', 'message_variation_id',
               'message_variation_name', 'canvas_id', 'canvas_name', 'canvas_variation_id',
               'canvas_variation_name', 'canvas_step_id', 'canvas_step_name']) }}
{%- endmacro %}

{#- Every observation of a campaign, Canvas, step or variation: one row per event that has one,
    with its names as the event carried them (NULL where it carried none). -#}
{% macro marts__name_observations() -%}
    with

    observed as (
        select
            event_at,
            channel,
            braze_id,
            app_group_id,
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
            app_group_id,
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
            app_group_id,
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
    ),

    {#- A Braze user id belongs to one workspace: an event that carries none (News Feed cards)
        gets its user's, where the user's other events name exactly one. #}
    user_workspaces as (
        select
            braze_id,
            min(app_group_id) as app_group_id
        from observed
        where app_group_id is not null and braze_id is not null
        group by braze_id
        having count(distinct app_group_id) = 1
    )

    select
        observed.event_at,
        observed.channel,
        observed.braze_id,
        coalesce(observed.app_group_id, user_workspaces.app_group_id) as app_group_id,
        observed.campaign_id,
        observed.campaign_name,
        observed.message_variation_id,
        observed.message_variation_name,
        observed.canvas_id,
        observed.canvas_name,
        observed.canvas_variation_id,
        observed.canvas_variation_name,
        observed.canvas_step_id,
        observed.canvas_step_name
    from observed
    left join user_workspaces on observed.braze_id = user_workspaces.braze_id
{%- endmacro %}

{#- One row per workspace (`app_group_id`) and value of `keys` (the last key not NULL) in the
    name observations: its latest name (the name of the newest event that carried one; the
    greater name on a tie), when the events first and last mentioned it, and the channels its
    messages went out on. Two workspaces never share a row, even where their ids are equal.
    Read from int_name_observations, the observations folded by ids and names: the row of a
    name that has the greatest last_seen_at holds the newest event that carried that name. -#}
{% macro marts__name_dimension(keys, name) -%}
    {%- set keys = ['app_group_id'] + keys %}
    select
        {{ keys | join(', ') }},
        {{ braze_currents__max_by_not_null(name, braze_currents__ordering(['last_seen_at', name])) }}
            as {{ name }},
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        {{ braze_currents__array_agg_distinct_sorted('channel') }} as channels
    from {{ ref('int_name_observations') }}
    where {{ keys[-1] }} is not null
    group by {{ keys | join(', ') }}
{%- endmacro %}
