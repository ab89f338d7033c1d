{{ config(materialized='incremental', incremental_strategy='append') }}

with

batches as (
    {{ braze_currents__batches_to_process(
        ['batch_id', 'loaded_at', 'source_line', 'event_count', 'events']
    ) }}
),

unnested as (
    select
        batch_id,
        loaded_at,
        source_line,
        unnest(range(1, event_count + 1)) as event_index,
        unnest(json_extract(events, '$[*]')) as event_json
    from batches
),

decoded as (
    select
        *,
        from_json(event_json, '{{ braze_currents__envelope_spec() }}') as e
    from unnested
),

parsed as materialized (
    -- One from_json() per event: every field below reads the same parse. Materialized, so
    -- that the filter in `usable` reads these columns instead of parsing again for each field
    -- it tests; it holds the fields, not the event's text (half the memory at 10 M events).
    select
        e.id as event_id,
        e.event_type,
        e.time as event_time,
        coalesce(e."user".external_user_id, e.external_user_id) as external_user_id,
        coalesce(e."user".user_id, e.user_id) as braze_id,
        coalesce(e."user".device_id, e.device_id) as device_id,
        coalesce(e."user".timezone, e.timezone) as timezone,
        -- Flat (storage-format) events carry their fields at the top level: what is not
        -- envelope is their properties.
        coalesce(
            e.properties,
            json_merge_patch(event_json, {{ braze_currents__flat_envelope_patch() }})
        ) as properties,
        batch_id,
        loaded_at,
        source_line,
        event_index
    from decoded
),

usable as (
    select
        * exclude (event_time),
        {{ braze_currents__unix_to_timestamp('event_time') }} as event_at
    from parsed
    where {{ braze_currents__is_usable_event('event_id', 'event_type', 'event_time') }}
),

existing as (
    -- The events the model already holds: none on a full build.
    {%- if is_incremental() %}
        select
            event_id,
            event_at
        from {{ this }}
    {%- else %}
        select
            null::varchar as event_id,
            null::timestamp as event_at
        where false
    {%- endif %}
),

new_copies as (
    -- Copies of an event share its id and time; matching on both lets DuckDB skip the row
    -- groups of the target outside the new events' time range.
    select usable.*
    from usable
    anti join existing
        on usable.event_id = existing.event_id and usable.event_at = existing.event_at
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
    anti join repeated on new_copies.event_id = repeated.event_id
    union all
    select new_copies.*
    from new_copies
    semi join repeated on new_copies.event_id = repeated.event_id
    qualify row_number() over (
        partition by new_copies.event_id
        order by
            new_copies.loaded_at,
            new_copies.source_line,
            new_copies.batch_id,
            new_copies.event_index
    ) = 1
)

select
    event_id,
    event_type,
    event_at,
    external_user_id,
    braze_id,
    device_id,
    timezone,
    properties,
    batch_id,
    loaded_at
from first_copies
-- Rows of one type sit together, so each typed model reads only its own row groups.
order by event_type, event_at
