-- One row per campaign message variation of a workspace (`app_group_id`) the events mention:
-- its latest name, when it was first and last seen.
{{ marts__name_dimension(['campaign_id', 'message_variation_id'], 'message_variation_name') }}
