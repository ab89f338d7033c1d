{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns'
) }}

with

batches as (
    {{ braze_currents__batches_to_process([
        'batch_id', 'source_file', 'source_line', 'received_at', 'loaded_at', 'event_count',
        'events'
    ]) }}
),

checked as (
    select
        batch_id,
        source_file,
        source_line,
        received_at,
        loaded_at,
        event_count,
        {{ braze_currents__json_struct_array('events', braze_currents__key_spec()) }} as event_keys
    from batches
)

select
    batch_id,
    source_file,
    source_line,
    received_at,
    loaded_at,
    event_count,
    {{ braze_currents__array_length(braze_currents__array_filter(
        'event_keys',
        'k',
        'not ' ~ braze_currents__is_usable_event('k.id', 'k.event_type', 'k.time')
    )) }} as invalid_event_count,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as staged_at
from checked
