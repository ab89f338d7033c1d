-- How much each user engaged with messages lately, per channel: one row per workspace, user
-- (`braze_id`) and channel with a message event in the 90 days before the newest event of the
-- warehouse. The windows end at the newest event (`as_of`), not at the wall clock, so a
-- warehouse loaded late answers as of its data. Engagements are the actions the seed
-- braze_currents__message_actions flags (machine opens excepted); counts add up across
-- channels, days do not.

with

as_of as (
    select max(event_at) as as_of
    from {{ ref('stg_braze_currents__events') }}
),

recent as (
    select
        message_events.app_group_id,
        message_events.braze_id,
        message_events.external_user_id,
        message_events.channel,
        message_events.action,
        message_events.event_at,
        as_of.as_of,
        coalesce(actions.is_engagement, false)
        and not coalesce(message_events.is_machine_open, false) as is_engagement
    from {{ ref('fct_message_engagement') }} as message_events
    cross join as_of
    left join {{ ref('braze_currents__message_actions') }} as actions
        on message_events.action = actions.action
    where
        message_events.braze_id is not null
        and message_events.event_at > as_of.as_of - interval 90 day
),

-- A Braze user id belongs to one workspace: the events that carry none (News Feed cards) get
-- their user's, where the user's other recent events name exactly one.
user_workspaces as (
    select
        braze_id,
        min(app_group_id) as app_group_id
    from recent
    where app_group_id is not null
    group by braze_id
    having count(distinct app_group_id) = 1
),

placed as (
    select
        coalesce(recent.app_group_id, user_workspaces.app_group_id) as app_group_id,
        recent.braze_id,
        recent.external_user_id,
        recent.channel,
        recent.action,
        recent.event_at,
        recent.as_of,
        recent.is_engagement
    from recent
    left join user_workspaces on recent.braze_id = user_workspaces.braze_id
)

select
    app_group_id,
    braze_id,
    channel,
    max(external_user_id) as external_user_id,
    {%- for days in [7, 30, 90] %}
        count(*) filter (where is_engagement and event_at > as_of - interval {{ days }} day)
            as engagements_{{ days }}d,
        count(distinct cast(event_at as date)) filter (
            where is_engagement and event_at > as_of - interval {{ days }} day
        ) as engaged_days_{{ days }}d,
        count(*) filter (where action = 'send' and event_at > as_of - interval {{ days }} day)
            as sends_{{ days }}d,
    {%- endfor %}
    max(event_at) filter (where is_engagement) as last_engaged_at,
    {{ braze_currents__days_between(
        'cast(max(event_at) filter (where is_engagement) as date)', 'cast(max(as_of) as date)'
    ) }}
        as days_since_last_engagement,
    max(as_of) as as_of
from placed
group by app_group_id, braze_id, channel
