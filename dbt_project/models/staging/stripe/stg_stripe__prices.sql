{#- Grain: price_id. A price of the catalog (amounts in currency units). -#}
select
    id as price_id,
    product as product_id,
    nickname as price_name,
    type as price_type,
    currency,
    {{ cents_to_units("unit_amount") }} as unit_amount,
    recurring__interval as billing_interval,
    recurring__interval_count as interval_count,
    coalesce(active, true) as is_active,
    coalesce(deleted, false) as is_deleted
from {{ source('stripe', 'prices') }}
