{#- One row per input file per load, with what became of its records. Written only in SQL
    both engines share and cross-database macros: the first model built on DuckDB and on Spark
    alike (the parity harness compares its rows). -#}

with

loads as (
    select * from {{ source('braze_currents', 'currents_loads') }}
)

select
    loaded_at,
    source_file,
    records,
    accepted,
    duplicates,
    rejected,
    blank_lines,
    events,
    recovered,
    records - accepted - duplicates - rejected as unaccounted_records,
    {{ braze_currents__safe_divide('duplicates', 'accepted + duplicates') }} as duplicate_share
from loads
