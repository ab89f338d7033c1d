-- One row per campaign of a workspace (`app_group_id`) the events mention:
-- its latest name, when it was first and last seen.
{{ marts__name_dimension(['campaign_id'], 'campaign_name') }}
