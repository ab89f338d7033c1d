{#- fct_message_engagement holds exactly the users.messages.* events of the event stream, of
    every channel: fails with each event that is missing from it or should not be in it.

    It compares the events of braze_currents__test_scope() on both sides: those of the loads
    the latest dbt run staged (every event on a full refresh, or with
    --vars '{braze_currents_test_scope: all}'); a fact row carries its event's load. -#}
{%- set scope = braze_currents__test_scope() %}

with

staged as (
    select event_id
    from {{ ref('stg_braze_currents__events') }}
    where {{ scope }} and event_type like 'users.messages.%'
),

fact as (
    select event_id
    from {{ ref('fct_message_engagement') }}
    where {{ scope }}
)

select
    coalesce(staged.event_id, fact.event_id) as event_id,
    case
        when fact.event_id is null then 'staged message event missing from the fact'
        else 'fact row that is no staged message event'
    end as problem
from staged
full outer join fact on staged.event_id = fact.event_id
where staged.event_id is null or fact.event_id is null
