-- One row per Canvas of a workspace (`app_group_id`) the events mention:
-- its latest name, when it was first and last seen.
{{ marts__name_dimension(['canvas_id'], 'canvas_name') }}
