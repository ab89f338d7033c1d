{#- The funnel columns of a roll-up of fct_message_sends: messages and users at each stage,
    and rates over the audience (delivered where the channel reports deliveries, else sent,
    else shown). Every count is of messages (rows of fct_message_sends) or of distinct users,
    so a rate of a roll-up is right over any period it covers; grouped again, sum the message
    counts and divide, as the rates here do. -#}
{% macro marts__funnel_columns() -%}
    count(*) as messages,
    count(distinct braze_id) as users,
    count(*) filter (where is_sent) as sent,
    count(*) filter (where is_delivered) as delivered,
    count(*) filter (where is_impressed) as impressed,
    count(*) filter (where is_opened) as opened,
    count(*) filter (where is_human_opened) as human_opened,
    count(*) filter (where is_clicked) as clicked,
    count(*) filter (where is_bounced) as bounced,
    count(*) filter (where is_soft_bounced) as soft_bounced,
    count(*) filter (where is_spam_reported) as spam_reported,
    count(*) filter (where is_unsubscribed) as unsubscribed,
    count(*) filter (where is_converted) as converted,
    cast(sum(conversions) as bigint) as attributed_conversions,
    case
        when count(*) filter (where is_delivered) > 0 then count(*) filter (where is_delivered)
        when count(*) filter (where is_sent) > 0 then count(*) filter (where is_sent)
        else count(*) filter (where is_impressed)
    end as audience,
    min(first_event_at) as first_message_at,
    max(first_event_at) as last_message_at
{%- endmacro %}

{#- The names of the columns of marts__funnel_columns(), in order. -#}
{% macro marts__funnel_column_names() -%}
    {{ return([
        'messages', 'users', 'sent', 'delivered', 'impressed', 'opened', 'human_opened',
        'clicked', 'bounced', 'soft_bounced', 'spam_reported', 'unsubscribed', 'converted',
        'attributed_conversions', 'audience', 'first_message_at', 'last_message_at',
    ]) }}
{%- endmacro %}

{#- The rates of a roll-up with the columns of marts__funnel_columns(). -#}
{% macro marts__funnel_rates() -%}
    {{ marts__ratio('delivered', 'sent') }} as delivery_rate,
    {{ marts__ratio('opened', 'audience') }} as open_rate,
    {{ marts__ratio('human_opened', 'audience') }} as human_open_rate,
    {{ marts__ratio('clicked', 'audience') }} as click_rate,
    {{ marts__ratio('clicked', 'opened') }} as click_to_open_rate,
    {{ marts__ratio('bounced', 'sent') }} as bounce_rate,
    {{ marts__ratio('unsubscribed', 'audience') }} as unsubscribe_rate,
    {{ marts__ratio('converted', 'audience') }} as conversion_rate
{%- endmacro %}
