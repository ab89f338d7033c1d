{#- What the marts know about Braze's vocabulary, in one place. -#}

{#- The channel of a `users.messages.<channel>.<Action>` event type: the segment after
    `messages.` (`email`, `pushnotification`, and any channel Braze adds later). -#}
{% macro marts__message_channel(event_type) -%}
    split_part({{ event_type }}, '.', 3)
{%- endmacro %}

{#- The action of a message event type: its last segment in snake_case (`Open` -> `open`,
    `MarkAsSpam` -> `mark_as_spam`, `SoftBounce` -> `soft_bounce`, `IosForeground` ->
    `ios_foreground`, `SMSDelivery` -> `sms_delivery`). -#}
{% macro marts__message_action(event_type) -%}
    lower(
        regexp_replace(
            regexp_replace(
                regexp_extract({{ event_type }}, '[^.]+$'), '([A-Z]+)([A-Z][a-z])', '\1_\2', 'g'
            ),
            '([a-z])([A-Z])',
            '\1_\2',
            'g'
        )
    )
{%- endmacro %}

{#- Actions by which a user engages with a message (machine opens excepted): they set the last
    engagement and the most engaged channel of a user. Impressions, sends and deliveries are
    things done to the user, not by them. -#}
{% macro marts__engagement_actions() -%}
    {{ return(['open', 'click', 'short_link_click', 'read', 'inbound_receive']) }}
{%- endmacro %}

{#- SQL list literal of the engagement actions, for `action in (...)`. -#}
{% macro marts__engagement_action_list() -%}
    ('{{ marts__engagement_actions() | join("', '") }}')
{%- endmacro %}

{#- The mailbox provider of an email recipient: the one Braze reported on the event (opens and
    clicks carry it), else the provider of a well-known consumer domain, else 'Other'
    (business domains need an MX lookup the warehouse cannot make). -#}
{% macro marts__mailbox_provider(reported, recipient_domain) -%}
    coalesce(
        nullif({{ reported }}, ''),
        case
            when {{ recipient_domain }} in ('gmail.com', 'googlemail.com') then 'Gmail'
            when {{ recipient_domain }} in ('yahoo.com', 'ymail.com', 'rocketmail.com')
                or {{ recipient_domain }} like 'yahoo.%' then 'Yahoo'
            when {{ recipient_domain }} in ('aol.com', 'aim.com') then 'AOL'
            when {{ recipient_domain }} in ('outlook.com', 'msn.com')
                or {{ recipient_domain }} like 'hotmail.%'
                or {{ recipient_domain }} like 'live.%'
                or {{ recipient_domain }} like 'outlook.%' then 'Microsoft'
            when {{ recipient_domain }} in ('icloud.com', 'me.com', 'mac.com') then 'Apple'
            when {{ recipient_domain }} = 'web.de' then 'Web.de'
            when {{ recipient_domain }} like 'gmx.%' then 'GMX'
            when {{ recipient_domain }} in ('comcast.net', 'xfinity.com') then 'Comcast'
            when {{ recipient_domain }} in ('orange.fr', 'wanadoo.fr') then 'Orange'
            when {{ recipient_domain }} in ('proton.me', 'protonmail.com') then 'Proton'
            when {{ recipient_domain }} like 'yandex.%' then 'Yandex'
            when {{ recipient_domain }} in ('mail.ru', 'bk.ru', 'inbox.ru') then 'Mail.ru'
            when {{ recipient_domain }} in ('qq.com', 'foxmail.com') then 'QQ'
            when {{ recipient_domain }} is not null then 'Other'
        end
    )
{%- endmacro %}

{#- What a conversion belongs to, and so which messages can be credited with it: a campaign
    variation, or a Canvas variation ('channel <channel>' for a message of neither). -#}
{% macro marts__conversion_key() -%}
    case
        when campaign_id is not null
            then 'campaign ' || campaign_id || ' ' || coalesce(message_variation_id, '')
        when canvas_id is not null
            then 'canvas ' || canvas_id || ' ' || coalesce(canvas_variation_id, '')
    end
{%- endmacro %}

{#- The attribution window of a channel in days, from the var
    `braze_currents_attribution_window_days` (a map of channel to days, `default` for the
    channels it does not name): a conversion is credited to the user's last message of its
    campaign or Canvas variation only if it came within that many days of the message. -#}
{% macro marts__attribution_window_days(channel) -%}
    {%- set windows = var('braze_currents_attribution_window_days') -%}
    case {{ channel }}
        {%- for name, days in windows.items() if name != 'default' %}
        when '{{ name }}' then {{ days | int }}
        {%- endfor %}
        else {{ windows.get('default', 3) | int }}
    end
{%- endmacro %}

{#- The channels dim_users also gives flat columns for (sends, engagements, last engagement),
    besides its maps: the ones most workspaces use. -#}
{% macro marts__flat_channels() -%}
    {{ return(['email', 'pushnotification', 'sms']) }}
{%- endmacro %}
