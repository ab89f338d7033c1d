-- Every step of a user's way through a Canvas, in one shape: entries, step progressions, exits
-- (with the reason), experiment-path entries and conversions, Canvas conversions.

{#- The Canvas models, each with its journey event: macros/marts/marts__braze.sql. #}
{%- set journey_events = marts__canvas_journey_models() %}
{#- Columns only some of the event types have, with their type. #}
{%- set optional_columns = {
    'app_group_id': dbt.type_string(),
    'experiment_step_id': dbt.type_string(),
    'experiment_split_id': dbt.type_string(),
    'in_control_group': dbt.type_boolean(),
} %}

{% for source in journey_events %}
    select
        event_id,
        event_at,
        '{{ source.journey_event }}' as journey_event,
        {%- if source.exit_reason %}
            '{{ source.exit_reason }}' as exit_reason,
        {%- else %}
            cast(null as {{ dbt.type_string() }}) as exit_reason,
        {%- endif %}
        canvas_id,
        canvas_name,
        canvas_variation_id,
        canvas_variation_name,
        canvas_step_id,
        canvas_step_name,
        {%- for column, data_type in optional_columns.items() %}
            {%- if column in source.get('columns', []) %}
                {{ column }},
            {%- else %}
                cast(null as {{ data_type }}) as {{ column }},
            {%- endif %}
        {%- endfor %}
        external_user_id,
        braze_id,
        loaded_at
    from {{ ref(source.model) }}
    {%- if not loop.last %}
        union all
    {%- endif %}
{% endfor %}
