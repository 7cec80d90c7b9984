{#- Grain: subscription_id. A subscription as last loaded (its latest state), with its discount
    flattened. `changed_at` is when the event that wrote this state happened (null when the row
    came from a list, not from an event). -#}
select
    id as subscription_id,
    customer as customer_id,
    status,
    collection_method,
    {{ from_unix_seconds('created') }} as created_at,
    {{ from_unix_seconds('start_date') }} as started_at,
    {{ from_unix_seconds('ended_at') }} as ended_at,
    {{ from_unix_seconds('canceled_at') }} as canceled_at,
    coalesce(cancel_at_period_end, false) as cancel_at_period_end,
    {{ from_unix_seconds('current_period_start') }} as current_period_start_at,
    {{ from_unix_seconds('current_period_end') }} as current_period_end_at,
    {{ from_unix_seconds('trial_end') }} as trial_end_at,
    discount__id as discount_id,
    discount__coupon__id as coupon_id,
    cast(discount__coupon__percent_off as {{ dbt.type_numeric() }}) as discount_percent_off,
    {{ cents_to_units("discount__coupon__amount_off") }} as discount_amount_off,
    discount__coupon__duration as discount_duration,
    {{ from_unix_seconds('discount__start') }} as discount_start_at,
    {{ from_unix_seconds('discount__end') }} as discount_end_at,
    case when _csp_event_created > 0 then {{ from_unix_seconds('_csp_event_created') }} end
        as changed_at,
    coalesce(deleted, false) as is_deleted
from {{ source('stripe', 'subscriptions') }}
