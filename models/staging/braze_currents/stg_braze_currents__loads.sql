-- The loader's log: one row per input file per load, with what became of its records.

select
    loaded_at,
    source_file,
    records,
    accepted,
    duplicates,
    rejected,
    blank_lines,
    events,
    recovered
from {{ source('braze_currents', 'currents_loads') }}
