{#- Grain: product_id. A product of the catalog; its lower-cased name is the plan name. -#}
select
    id as product_id,
    name as product_name,
    lower(name) as plan,
    coalesce(active, true) as is_active,
    coalesce(deleted, false) as is_deleted
from {{ source('stripe', 'products') }}
