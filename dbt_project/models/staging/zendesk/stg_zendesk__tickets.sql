{#- Grain: ticket_id. A Zendesk ticket, its latest state, with its support category and
    escalation read from its tags (dlt child table `tickets__tags`, joined back to its parent
    row: flattening one source record, not combining sources).

    Category: the ticket's tag among `how_to`, `bug`, `feature_request`, `advisory` (the
    support team tags every ticket with one; the sandbox does too). Tags are used rather than
    the category custom field because a custom field's id differs per Zendesk instance while
    tags are plain text. A ticket without a category tag falls back on its Zendesk type
    (incident/problem -> bug, question -> how_to, task -> feature_request) so it is still
    counted. Escalated: the `escalated` tag. -#}
with tickets as (
    select * from {{ source('zendesk', 'tickets') }}
),

tags as (
    select
        _dlt_parent_id as ticket_row_id,
        lower(trim(value)) as tag
    from {{ source('zendesk', 'tickets__tags') }}
),

ticket_tags as (
    select
        ticket_row_id,
        min(case when tag in ('how_to', 'bug', 'feature_request', 'advisory') then tag end)
            as category_tag,
        max(case when tag = 'escalated' then 1 else 0 end) = 1 as is_escalated
    from tags
    group by ticket_row_id
)

select
    tickets.id as ticket_id,
    cast(tickets.organization_id as {{ dbt.type_string() }}) as organization_id,
    tickets.requester_id,
    coalesce(
        ticket_tags.category_tag,
        case lower(tickets.type)
            when 'incident' then 'bug'
            when 'problem' then 'bug'
            when 'question' then 'how_to'
            when 'task' then 'feature_request'
        end
    ) as category,
    ticket_tags.category_tag is null as is_category_inferred,
    lower(tickets.type) as ticket_type,
    lower(tickets.priority) as priority,
    lower(tickets.status) as status,
    coalesce(ticket_tags.is_escalated, false) as is_escalated,
    {{ to_utc_timestamp('tickets.created_at') }} as created_at,
    {{ to_utc_timestamp('tickets.updated_at') }} as updated_at
from tickets
left join ticket_tags
    on ticket_tags.ticket_row_id = tickets._dlt_id
