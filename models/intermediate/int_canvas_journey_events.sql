-- Every step of a user's way through a Canvas, in one shape: entries, step progressions, exits
-- (with the reason), experiment-path entries and conversions, Canvas conversions.

{%- set journey_events = [
    {'model': 'stg_braze_currents__canvas_entries', 'journey_event': 'entry',
     'columns': ['in_control_group']},
    {'model': 'stg_braze_currents__canvas_step_progressions', 'journey_event': 'progression'},
    {'model': 'stg_braze_currents__canvas_audience_exits', 'journey_event': 'exit',
     'exit_reason': 'matched_audience'},
    {'model': 'stg_braze_currents__canvas_event_exits', 'journey_event': 'exit',
     'exit_reason': 'performed_event'},
    {'model': 'stg_braze_currents__canvas_experiment_step_split_entries',
     'journey_event': 'experiment_split_entry',
     'columns': ['experiment_step_id', 'experiment_split_id', 'in_control_group']},
    {'model': 'stg_braze_currents__canvas_experiment_step_conversions',
     'journey_event': 'experiment_conversion',
     'columns': ['experiment_step_id', 'experiment_split_id']},
    {'model': 'stg_braze_currents__canvas_conversions', 'journey_event': 'conversion'},
] %}
{#- Columns only some of the event types have, with their type. #}
{%- set optional_columns = {
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
