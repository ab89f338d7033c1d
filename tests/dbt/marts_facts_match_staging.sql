-- Each fact holds as many rows as the staging events it is built from: fails with one row per
-- fact whose count differs (an incremental run that lost or doubled a load shows here).

with

checks as (
    select
        'fct_message_deliverability' as mart,
        (select count(*) from {{ ref('fct_message_deliverability') }}) as mart_rows,
        (
            select count(*)
            from {{ ref('fct_message_engagement') }}
            where action in (
                'send', 'delivery', 'bounce', 'soft_bounce', 'deferral', 'mark_as_spam',
                'carrier_send', 'delivery_failure', 'failure', 'rejection'
            )
        ) as expected_rows
    union all
    select
        'fct_canvas_journey_events' as mart,
        (select count(*) from {{ ref('fct_canvas_journey_events') }}) as mart_rows,
        (select count(*) from {{ ref('stg_braze_currents__canvas_entries') }})
        + (select count(*) from {{ ref('stg_braze_currents__canvas_step_progressions') }})
        + (select count(*) from {{ ref('stg_braze_currents__canvas_audience_exits') }})
        + (select count(*) from {{ ref('stg_braze_currents__canvas_event_exits') }})
        + (
            select count(*)
            from {{ ref('stg_braze_currents__canvas_experiment_step_split_entries') }}
        )
        + (
            select count(*)
            from {{ ref('stg_braze_currents__canvas_experiment_step_conversions') }}
        )
        + (select count(*) from {{ ref('stg_braze_currents__canvas_conversions') }})
            as expected_rows
    union all
    select
        'fct_purchases' as mart,
        (select count(*) from {{ ref('fct_purchases') }}) as mart_rows,
        (select count(*) from {{ ref('stg_braze_currents__purchases') }}) as expected_rows
    union all
    select
        'fct_sessions' as mart,
        (select count(*) from {{ ref('fct_sessions') }}) as mart_rows,
        (
            select count(distinct session_id)
            from (
                select session_id from {{ ref('stg_braze_currents__session_starts') }}
                union all
                select session_id from {{ ref('stg_braze_currents__session_ends') }}
                union all
                select session_id from {{ ref('stg_braze_currents__first_sessions') }}
            )
        ) as expected_rows
    union all
    select
        'dim_users' as mart,
        (select count(*) from {{ ref('dim_users') }}) as mart_rows,
        (
            select count(distinct external_user_id)
            from {{ ref('stg_braze_currents__events') }}
        ) as expected_rows
)

select *
from checks
where mart_rows <> expected_rows
