{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns'
) }}

with

batches as (
    {{ braze_currents__batches_to_process(
        ['batch_id', 'loaded_at', 'source_line', 'event_count', 'events']
    ) }}
),

unnested as (
    {{ braze_currents__unnest_rows(
        'batches', ['batch_id', 'loaded_at', 'source_line'],
        braze_currents__json_array_items('batches.events'), 'event_json', 'event_index'
    ) }}
),

decoded as (
    select
        *,
        {{ braze_currents__json_struct('event_json', braze_currents__envelope_spec()) }} as e
    from unnested
),

with_user as (
    select
        *,
        {{ braze_currents__json_struct(
            braze_currents__envelope_field('e', 'user'), braze_currents__user_spec()
        ) }} as u
    from decoded
),

parsed as {{ braze_currents__materialized() }} (
    -- One from_json() per event: every field below reads the same parse. Materialized, so
    -- that the filter in `usable` reads these columns instead of parsing again for each field
    -- it tests; it holds the fields, not the event's text (half the memory at 10 M events).
    -- Both envelopes (Custom HTTP, and flat as Braze's storage connectors write events) are
    -- read: macros/staging/braze_currents/braze_currents__event_envelope.sql.
    select
        e.id as event_id,
        e.event_type,
        e.time as event_time,
        coalesce(u.external_user_id, e.external_user_id) as external_user_id,
        coalesce(u.user_id, e.user_id) as braze_id,
        coalesce(u.device_id, e.device_id) as device_id,
        coalesce(u.timezone, e.timezone) as timezone,
        {{ braze_currents__event_properties('event_json', 'e') }} as properties,
        {{ braze_currents__envelope_extras('event_json', 'e') }} as envelope_extras,
        batch_id,
        loaded_at,
        source_line,
        event_index
    from with_user
),

usable as (
    select
        event_id,
        event_type,
        {{ braze_currents__unix_to_timestamp(braze_currents__time_seconds('event_time')) }}
            as event_at,
        external_user_id,
        braze_id,
        device_id,
        timezone,
        properties,
        envelope_extras,
        batch_id,
        loaded_at,
        source_line,
        event_index
    from parsed
    where {{ braze_currents__is_usable_event('event_id', 'event_type', 'event_time') }}
),

existing as (
    -- The events the model already holds: none on a full build.
    {%- if is_incremental() %}
        select event_id
        from {{ this }}
    {%- else %}
        select cast(null as {{ dbt.type_string() }}) as event_id
        where false
    {%- endif %}
),

new_copies as (
    -- The id alone is the event: a copy delivered again in a later load is not a new event,
    -- whatever else differs (its time, its properties); the first loaded copy stays.
    select usable.*
    from usable
    {{ braze_currents__anti_join() }} existing on usable.event_id = existing.event_id
),

repeated as (
    -- Currents delivers at least once: the ids that come more than once in what this run
    -- reads. Only their copies are ordered to find the first (ordering every event by id
    -- cost a third of the model's time).
    select event_id
    from new_copies
    group by event_id
    having count(*) > 1
),

first_copies as (
    -- The first loaded copy of each event.
    select new_copies.*
    from new_copies
    {{ braze_currents__anti_join() }} repeated on new_copies.event_id = repeated.event_id
    union all
    select new_copies.*
    from new_copies
    {{ braze_currents__semi_join() }} repeated on new_copies.event_id = repeated.event_id
    qualify row_number() over (
        partition by new_copies.event_id
        order by
            new_copies.loaded_at,
            new_copies.source_line,
            new_copies.batch_id,
            new_copies.event_index
    ) = 1
),

workspaces as (
    -- The Braze workspace (app group) and app of each event, from its properties (where both
    -- envelopes put them): one warehouse can hold several workspaces. Parsed once here, for
    -- every model downstream.
    select
        *,
        {{ braze_currents__json_struct(
            'properties', {'app_group_id': 'VARCHAR', 'app_id': 'VARCHAR'}
        ) }} as w
    from first_copies
)

select
    event_id,
    event_type,
    event_at,
    external_user_id,
    braze_id,
    device_id,
    timezone,
    w.app_group_id,
    w.app_id,
    properties,
    envelope_extras,
    batch_id,
    loaded_at
from workspaces
-- Rows of one type sit together, so each typed model reads only its own row groups.
order by event_type, event_at
