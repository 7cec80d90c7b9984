{#- Grain: subscription_item_id. The items of each subscription's latest state, each with its
    price (amounts in currency units, not cents). -#}
select
    id as subscription_item_id,
    subscription as subscription_id,
    price__id as price_id,
    price__product as product_id,
    {{ cents_to_units("price__unit_amount") }} as unit_amount,
    price__recurring__interval as billing_interval,
    price__recurring__interval_count as interval_count,
    quantity,
    {{ from_unix_seconds('created') }} as created_at
from {{ source('stripe', 'subscriptions__items__data') }}
