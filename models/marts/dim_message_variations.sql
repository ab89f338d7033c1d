-- One row per campaign message variation the events mention:
-- its latest name, when it was first and last seen.
{{ marts__name_dimension(['campaign_id', 'message_variation_id'], 'message_variation_name') }}
