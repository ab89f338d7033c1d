{#- What the marts know about Braze's vocabulary, in one place. -#}

{#- The channel of a `users.messages.<channel>.<Action>` event type: the segment after
    `messages.` (`email`, `pushnotification`, and any channel Braze adds later). -#}
{% macro marts__message_channel(event_type) -%}
    split_part({{ event_type }}, '.', 3)
{%- endmacro %}

{#- The action of a message event type: its last segment in snake_case (`Open` -> `open`,
    `MarkAsSpam` -> `mark_as_spam`, `SoftBounce` -> `soft_bounce`, `IosForeground` ->
    `ios_foreground`, `SMSDelivery` -> `sms_delivery`). -#}
{% macro marts__message_action(event_type) -%}
    {#- Through the cross-database regex macros: Spark's regexp_replace gives NULL when given
        DuckDB's 'g' flag, and its regexp_extract takes group 1 by default. -#}
    {%- set last_segment = braze_currents__regex_extract(event_type, '[^.]+$', 0) -%}
    {%- set acronym_split = braze_currents__regex_replace_all(
        last_segment, '([A-Z]+)([A-Z][a-z])', '\\1_\\2') -%}
    lower({{ braze_currents__regex_replace_all(acronym_split, '([a-z])([A-Z])', '\\1_\\2') }})
{%- endmacro %}

{#- The vocabularies that are data live in seeds (seeds/_seeds.yml), joined by the models:
    channels (braze_currents__channels), message actions with their engagement, delivery
    outcome and funnel flags (braze_currents__message_actions), mailbox providers by recipient
    domain (braze_currents__mailbox_providers). The lists below name models, which ref() must
    know when dbt parses the project, before any seed is loaded: they are macros. -#}

{#- The typed models of the Canvas journey events (int_canvas_journey_events): each with the
    journey event it is, the exit reason of an exit, and the optional columns it has (the
    experiment-path events carry no workspace, `app_group_id`: Braze does not send it). Not
    journey events: users.canvas.costep.Send (a Content Optimizer step's send: it names no
    Canvas or step) and users.canvas.Abort (retired: Braze no longer sends it).
    tests/python/test_seeds.py checks the list against the catalogue. -#}
{% macro marts__canvas_journey_models() -%}
    {{ return([
        {'model': 'stg_braze_currents__canvas_entries', 'journey_event': 'entry',
         'columns': ['app_group_id', 'in_control_group']},
        {'model': 'stg_braze_currents__canvas_step_progressions', 'journey_event': 'progression',
         'columns': ['app_group_id']},
        {'model': 'stg_braze_currents__canvas_audience_exits', 'journey_event': 'exit',
         'exit_reason': 'matched_audience', 'columns': ['app_group_id']},
        {'model': 'stg_braze_currents__canvas_event_exits', 'journey_event': 'exit',
         'exit_reason': 'performed_event', 'columns': ['app_group_id']},
        {'model': 'stg_braze_currents__canvas_experiment_step_split_entries',
         'journey_event': 'experiment_split_entry',
         'columns': ['experiment_step_id', 'experiment_split_id', 'in_control_group']},
        {'model': 'stg_braze_currents__canvas_experiment_step_conversions',
         'journey_event': 'experiment_conversion',
         'columns': ['experiment_step_id', 'experiment_split_id']},
        {'model': 'stg_braze_currents__canvas_conversions', 'journey_event': 'conversion',
         'columns': ['app_group_id']},
    ]) }}
{%- endmacro %}

{#- The typed models of the session events (int_session_events): each with the session event
    it is and its event type. -#}
{% macro marts__session_models() -%}
    {{ return([
        {'model': 'stg_braze_currents__session_starts', 'session_event': 'start',
         'event_type': 'users.behaviors.app.SessionStart'},
        {'model': 'stg_braze_currents__session_ends', 'session_event': 'end',
         'event_type': 'users.behaviors.app.SessionEnd'},
        {'model': 'stg_braze_currents__first_sessions', 'session_event': 'first_session',
         'event_type': 'users.behaviors.app.FirstSession'},
    ]) }}
{%- endmacro %}

{#- What a conversion belongs to, and so which messages can be credited with it: a campaign
    variation, or a Canvas variation ('channel <channel>' for a message of neither). -#}
{% macro marts__conversion_key() -%}
    case
        when campaign_id is not null
            then 'campaign ' || campaign_id || ' ' || coalesce(message_variation_id, '')
        when canvas_id is not null
            then 'canvas ' || canvas_id || ' ' || coalesce(canvas_variation_id, '')
    end
{%- endmacro %}

{#- The attribution window of a channel in days, from the var
    `braze_currents_attribution_window_days` (a map of channel to days, `default` for the
    channels it does not name): a conversion is credited to the user's last message of its
    campaign or Canvas variation only if it came within that many days of the message. -#}
{% macro marts__attribution_window_days(channel) -%}
    {%- set windows = var('braze_currents_attribution_window_days') -%}
    case {{ channel }}
        {%- for name, days in windows.items() if name != 'default' %}
        when '{{ name }}' then {{ days | int }}
        {%- endfor %}
        else {{ windows.get('default', 3) | int }}
    end
{%- endmacro %}

{#- The channels dim_users also gives flat columns for (sends, engagements, last engagement),
    besides its maps: the ones most workspaces use. -#}
{% macro marts__flat_channels() -%}
    {{ return(['email', 'pushnotification', 'sms']) }}
{%- endmacro %}
