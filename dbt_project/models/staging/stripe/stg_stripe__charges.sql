{#- Grain: charge_id. One payment attempt (succeeded or failed) as last loaded. -#}
select
    id as charge_id,
    customer as customer_id,
    invoice as invoice_id,
    {{ cents_to_units("amount") }} as amount,
    currency,
    status,
    coalesce(paid, false) as is_paid,
    failure_code,
    failure_message,
    {{ from_unix_seconds('created') }} as created_at
from {{ source('stripe', 'charges') }}
