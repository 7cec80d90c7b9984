{#- Grain: ticket_id. A ticket's metric set: minutes to the first agent reply and to the final
    resolution, in calendar time (what the customer waited), and when it was last solved.
    Zendesk keeps one metric set per ticket. -#}
select
    ticket_id,
    id as metric_set_id,
    reply_time_in_minutes__calendar as first_reply_minutes,
    full_resolution_time_in_minutes__calendar as full_resolution_minutes,
    {{ to_utc_timestamp('solved_at') }} as solved_at,
    reopens,
    replies,
    {{ to_utc_timestamp('updated_at') }} as updated_at
from {{ source('zendesk', 'ticket_metrics') }}
