{#- Schema drift, kind 4: envelope keys the stream does not know. Lists each key of
    `envelope_extras` (a top-level key of a Custom HTTP event such as `app`, or a `user` key such
    as `user.alias_name`) per event type, with the number of events that carry it, when it was
    first and last seen, and an example value. Such a key is kept in `envelope_extras` and
    breaks nothing; the warning says the envelope has grown. Apply it to the `envelope_extras`
    column of the event stream. It reads the events of braze_currents__test_scope() (the latest
    run's). -#}
{% test braze_currents__known_envelope_keys(model, column_name='envelope_extras') %}
{{ config(severity='warn') }}

with

extras as (
    select
        event_type,
        event_at,
        {{ column_name }} as extras
    from {{ model }}
    where {{ column_name }} is not null and {{ braze_currents__test_scope() }}
),

keyed as (
    select
        event_type,
        event_at,
        extras,
        unnest(json_keys(extras)) as json_key
    from extras
),

flattened as (
    -- `user` holds the user keys the stream does not know: each is listed as `user.<key>`.
    select
        event_type,
        event_at,
        json_key,
        json_extract(extras, '$."' || json_key || '"') as example_value
    from keyed
    where json_key <> 'user'
    union all
    select
        event_type,
        event_at,
        'user.' || user_key as json_key,
        json_extract(extras, '$.user."' || user_key || '"') as example_value
    from (
        select
            event_type,
            event_at,
            extras,
            unnest(json_keys(extras, '$.user')) as user_key
        from keyed
        where json_key = 'user'
    )
)

select
    event_type,
    json_key,
    count(*) as events,
    min(event_at) as first_event_at,
    max(event_at) as last_event_at,
    any_value(example_value)::varchar as example_value
from flattened
group by event_type, json_key

{% endtest %}
