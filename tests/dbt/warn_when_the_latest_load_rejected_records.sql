-- A warning, not an error: the latest load's files had records the loader rejected (invalid
-- JSON, no `events` array, a truncated stream, ...). Each row is a file of that load; the
-- records themselves are in stg_braze_currents__rejected (and raw.currents_rejected).
{{ config(severity='warn') }}

select
    loaded_at,
    source_file,
    records,
    rejected
from {{ ref('stg_braze_currents__loads') }}
where
    rejected > 0
    and loaded_at = (
        select max(loads.loaded_at) from {{ ref('stg_braze_currents__loads') }} as loads
    )
