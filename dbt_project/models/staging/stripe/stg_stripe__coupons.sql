{#- Grain: coupon_id. A coupon: percent or amount off, once / repeating / forever. -#}
select
    id as coupon_id,
    name as coupon_name,
    cast(percent_off as {{ dbt.type_numeric() }}) as percent_off,
    {{ cents_to_units("amount_off") }} as amount_off,
    duration,
    duration_in_months,
    coalesce(deleted, false) as is_deleted
from {{ source('stripe', 'coupons') }}
