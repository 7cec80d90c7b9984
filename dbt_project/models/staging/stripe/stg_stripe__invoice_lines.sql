{#- Grain: invoice_line_id. One line of an invoice: a subscription item billed for a period
    (a cycle line), or a proration (`is_proration`: credit for the unused time on an old price,
    charge for the remaining time on a new one). Amounts in currency units, before discounts.
    Stripe's line (API 2023-08-16) does not name its invoice: the invoice id comes from the
    parent row dlt split the line out of, the one join a child table needs. -#}
select
    lines.id as invoice_line_id,
    invoices.id as invoice_id,
    lines.subscription as subscription_id,
    lines.subscription_item as subscription_item_id,
    lines.type as line_type,
    coalesce(lines.proration, false) as is_proration,
    lines.price__id as price_id,
    lines.price__product as product_id,
    {{ cents_to_units("lines.price__unit_amount") }} as unit_amount,
    lines.price__recurring__interval as billing_interval,
    lines.price__recurring__interval_count as interval_count,
    lines.quantity,
    {{ cents_to_units("lines.amount") }} as amount,
    {{ from_unix_seconds('lines.period__start') }} as period_start_at,
    {{ from_unix_seconds('lines.period__end') }} as period_end_at
from {{ source('stripe', 'invoices__lines__data') }} as lines
inner join {{ source('stripe', 'invoices') }} as invoices
    on lines._dlt_parent_id = invoices._dlt_id
