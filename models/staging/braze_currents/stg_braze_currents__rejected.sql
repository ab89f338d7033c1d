-- The input records the loader could not accept as batches, with why (the record's text stays
-- in raw.currents_rejected).

select
    reject_id,
    source_file,
    source_line,
    reason,
    rejected_at
from {{ source('braze_currents', 'currents_rejected') }}
