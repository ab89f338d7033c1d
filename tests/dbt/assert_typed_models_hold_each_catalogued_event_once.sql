{#- The typed models together hold exactly the events of catalogued types in the event stream:
    each such event in one typed row, of the model of its type; nothing lost, nothing doubled,
    nothing misplaced. One row per offending event, with what is wrong.

    The typed models, their event types and the SQL below come from the graph (models with
    meta.currents_event_type), so a new catalogue entry is checked without editing this file.
    The `depends_on` lines only tell dbt to run this test after the typed models: dbt cannot
    see refs made from the graph while it parses. A model missing from them makes dbt stop with
    "unable to infer all dependencies" (add its line); test_typed_staging.py checks the list
    against the catalogue.

    It reads the events of braze_currents__test_scope(): those of the loads the latest dbt run
    staged (all of them on a full refresh, or with --vars '{braze_currents_test_scope: all}'),
    one predicate on `loaded_at` for the event stream and every typed model. -#}
-- depends_on: {{ ref('stg_braze_currents__agent_executions') }}
-- depends_on: {{ ref('stg_braze_currents__agent_tool_invocations') }}
-- depends_on: {{ ref('stg_braze_currents__app_upgrades') }}
-- depends_on: {{ ref('stg_braze_currents__banner_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__banner_clicks') }}
-- depends_on: {{ ref('stg_braze_currents__banner_dismissals') }}
-- depends_on: {{ ref('stg_braze_currents__banner_impressions') }}
-- depends_on: {{ ref('stg_braze_currents__campaign_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__campaign_control_enrollments') }}
-- depends_on: {{ ref('stg_braze_currents__campaign_conversions') }}
-- depends_on: {{ ref('stg_braze_currents__canvas_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__canvas_audience_exits') }}
-- depends_on: {{ ref('stg_braze_currents__canvas_conversions') }}
-- depends_on: {{ ref('stg_braze_currents__canvas_costep_sends') }}
-- depends_on: {{ ref('stg_braze_currents__canvas_entries') }}
-- depends_on: {{ ref('stg_braze_currents__canvas_event_exits') }}
-- depends_on: {{ ref('stg_braze_currents__canvas_experiment_step_conversions') }}
-- depends_on: {{ ref('stg_braze_currents__canvas_experiment_step_split_entries') }}
-- depends_on: {{ ref('stg_braze_currents__canvas_step_progressions') }}
-- depends_on: {{ ref('stg_braze_currents__content_card_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__content_card_clicks') }}
-- depends_on: {{ ref('stg_braze_currents__content_card_dismissals') }}
-- depends_on: {{ ref('stg_braze_currents__content_card_impressions') }}
-- depends_on: {{ ref('stg_braze_currents__content_card_sends') }}
-- depends_on: {{ ref('stg_braze_currents__custom_events') }}
-- depends_on: {{ ref('stg_braze_currents__email_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__email_bounces') }}
-- depends_on: {{ ref('stg_braze_currents__email_clicks') }}
-- depends_on: {{ ref('stg_braze_currents__email_deferrals') }}
-- depends_on: {{ ref('stg_braze_currents__email_deliveries') }}
-- depends_on: {{ ref('stg_braze_currents__email_opens') }}
-- depends_on: {{ ref('stg_braze_currents__email_retries') }}
-- depends_on: {{ ref('stg_braze_currents__email_sends') }}
-- depends_on: {{ ref('stg_braze_currents__email_soft_bounces') }}
-- depends_on: {{ ref('stg_braze_currents__email_spam_reports') }}
-- depends_on: {{ ref('stg_braze_currents__email_unsubscribes') }}
-- depends_on: {{ ref('stg_braze_currents__feature_flag_impressions') }}
-- depends_on: {{ ref('stg_braze_currents__first_sessions') }}
-- depends_on: {{ ref('stg_braze_currents__global_subscription_state_changes') }}
-- depends_on: {{ ref('stg_braze_currents__in_app_message_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__in_app_message_clicks') }}
-- depends_on: {{ ref('stg_braze_currents__in_app_message_impressions') }}
-- depends_on: {{ ref('stg_braze_currents__install_attributions') }}
-- depends_on: {{ ref('stg_braze_currents__line_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__line_clicks') }}
-- depends_on: {{ ref('stg_braze_currents__line_inbound_receives') }}
-- depends_on: {{ ref('stg_braze_currents__line_retries') }}
-- depends_on: {{ ref('stg_braze_currents__line_sends') }}
-- depends_on: {{ ref('stg_braze_currents__live_activity_outcomes') }}
-- depends_on: {{ ref('stg_braze_currents__live_activity_push_to_start_token_changes') }}
-- depends_on: {{ ref('stg_braze_currents__live_activity_sends') }}
-- depends_on: {{ ref('stg_braze_currents__live_activity_update_token_changes') }}
-- depends_on: {{ ref('stg_braze_currents__locations') }}
-- depends_on: {{ ref('stg_braze_currents__news_feed_card_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__news_feed_card_clicks') }}
-- depends_on: {{ ref('stg_braze_currents__news_feed_card_impressions') }}
-- depends_on: {{ ref('stg_braze_currents__news_feed_impressions') }}
-- depends_on: {{ ref('stg_braze_currents__profile_updates') }}
-- depends_on: {{ ref('stg_braze_currents__purchases') }}
-- depends_on: {{ ref('stg_braze_currents__push_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__push_bounces') }}
-- depends_on: {{ ref('stg_braze_currents__push_influenced_opens') }}
-- depends_on: {{ ref('stg_braze_currents__push_ios_foregrounds') }}
-- depends_on: {{ ref('stg_braze_currents__push_opens') }}
-- depends_on: {{ ref('stg_braze_currents__push_retries') }}
-- depends_on: {{ ref('stg_braze_currents__push_sends') }}
-- depends_on: {{ ref('stg_braze_currents__push_token_state_changes') }}
-- depends_on: {{ ref('stg_braze_currents__random_bucket_number_updates') }}
-- depends_on: {{ ref('stg_braze_currents__rcs_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__rcs_clicks') }}
-- depends_on: {{ ref('stg_braze_currents__rcs_deliveries') }}
-- depends_on: {{ ref('stg_braze_currents__rcs_inbound_receives') }}
-- depends_on: {{ ref('stg_braze_currents__rcs_reads') }}
-- depends_on: {{ ref('stg_braze_currents__rcs_rejections') }}
-- depends_on: {{ ref('stg_braze_currents__rcs_sends') }}
-- depends_on: {{ ref('stg_braze_currents__session_ends') }}
-- depends_on: {{ ref('stg_braze_currents__session_starts') }}
-- depends_on: {{ ref('stg_braze_currents__sms_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__sms_carrier_sends') }}
-- depends_on: {{ ref('stg_braze_currents__sms_deliveries') }}
-- depends_on: {{ ref('stg_braze_currents__sms_delivery_failures') }}
-- depends_on: {{ ref('stg_braze_currents__sms_inbound_receives') }}
-- depends_on: {{ ref('stg_braze_currents__sms_rejections') }}
-- depends_on: {{ ref('stg_braze_currents__sms_retries') }}
-- depends_on: {{ ref('stg_braze_currents__sms_sends') }}
-- depends_on: {{ ref('stg_braze_currents__sms_short_link_clicks') }}
-- depends_on: {{ ref('stg_braze_currents__subscription_group_state_changes') }}
-- depends_on: {{ ref('stg_braze_currents__uninstalls') }}
-- depends_on: {{ ref('stg_braze_currents__user_delete_requests') }}
-- depends_on: {{ ref('stg_braze_currents__user_orphans') }}
-- depends_on: {{ ref('stg_braze_currents__webhook_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__webhook_failures') }}
-- depends_on: {{ ref('stg_braze_currents__webhook_retries') }}
-- depends_on: {{ ref('stg_braze_currents__webhook_sends') }}
-- depends_on: {{ ref('stg_braze_currents__whatsapp_aborts') }}
-- depends_on: {{ ref('stg_braze_currents__whatsapp_clicks') }}
-- depends_on: {{ ref('stg_braze_currents__whatsapp_deliveries') }}
-- depends_on: {{ ref('stg_braze_currents__whatsapp_failures') }}
-- depends_on: {{ ref('stg_braze_currents__whatsapp_inbound_receives') }}
-- depends_on: {{ ref('stg_braze_currents__whatsapp_reads') }}
-- depends_on: {{ ref('stg_braze_currents__whatsapp_retries') }}
-- depends_on: {{ ref('stg_braze_currents__whatsapp_sends') }}

{%- set typed_models = braze_currents__typed_models() if execute else [] %}
{%- if execute and not typed_models %}
    {{ exceptions.raise_compiler_error("no model declares meta.currents_event_type") }}
{%- endif %}
{%- set scope = braze_currents__test_scope() %}

with

typed_rows as (
    {%- for node in typed_models %}
        select
            event_id,
            event_type,
            '{{ node.config.meta.currents_event_type }}' as catalogued_event_type,
            '{{ node.name }}' as model_name
        from {{ ref(node.name) }}
        where {{ scope }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
    {%- if not typed_models %}
    select
        cast(null as {{ dbt.type_string() }}) as event_id,
        cast(null as {{ dbt.type_string() }}) as event_type,
        cast(null as {{ dbt.type_string() }}) as catalogued_event_type,
        cast(null as {{ dbt.type_string() }}) as model_name
    where false
    {%- endif %}
),

typed as (
    select
        event_id,
        count(*) as copies,
        bool_and(event_type = catalogued_event_type) as in_its_model,
        {{ braze_currents__string_agg_distinct('model_name', ', ') }} as models
    from typed_rows
    group by event_id
),

catalogued as (
    select
        event_id,
        event_type
    from {{ ref('stg_braze_currents__events') }}
    where {{ scope }} and event_type in (
        {%- for node in typed_models %}
            '{{ node.config.meta.currents_event_type }}'{{ "," if not loop.last }}
        {%- endfor %}
        {%- if not typed_models %}
        null
        {%- endif %}
    )
),

compared as (
    select
        catalogued.event_type,
        typed.models,
        coalesce(catalogued.event_id, typed.event_id) as event_id,
        case
            when typed.event_id is null
                then 'lost: an event of a catalogued type in no typed model'
            when catalogued.event_id is null
                then 'unexpected: a typed row that is no event of a catalogued type'
            when typed.copies > 1
                then concat(
                    'doubled: ', cast(typed.copies as {{ dbt.type_string() }}), ' typed rows'
                )
            when not typed.in_its_model
                then 'misplaced: in the model of another event type'
        end as problem
    from catalogued
    full outer join typed on catalogued.event_id = typed.event_id
)

select
    event_id,
    event_type,
    models,
    problem
from compared
where problem is not null
