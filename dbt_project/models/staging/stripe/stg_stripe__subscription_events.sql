{#- Grain: event_id. The subscription events (created, updated, deleted, ...), each with the
    subscription's discount as it became and, for updates that changed them, as it was before
    (`data.previous_attributes` names only what changed: `had_previous_*` says whether the
    discount or the items did). The items are in stg_stripe__subscription_event_items. -#}
with events as (
    select id, type, created, data
    from {{ source('stripe', 'events') }}
    where object_type = 'subscription'
)

select
    id as event_id,
    type as event_type,
    {{ from_unix_seconds('created') }} as created_at,
    {{ json_text('data', ['object', 'id']) }} as subscription_id,
    {{ json_text('data', ['object', 'customer']) }} as customer_id,
    {{ json_text('data', ['object', 'status']) }} as status,
    {{ json_text('data', ['object', 'discount', 'coupon', 'id']) }} as coupon_id,
    cast({{ json_text('data', ['object', 'discount', 'coupon', 'percent_off']) }}
        as {{ dbt.type_numeric() }}) as discount_percent_off,
    {{ cents_to_units("cast(" ~ json_text('data', ['object', 'discount', 'coupon', 'amount_off'])
        ~ " as bigint)") }} as discount_amount_off,
    {{ json_text('data', ['object', 'discount', 'coupon', 'duration']) }} as discount_duration,
    {{ from_unix_seconds("cast(" ~ json_text('data', ['object', 'discount', 'start'])
        ~ " as bigint)") }} as discount_start_at,
    {{ from_unix_seconds("cast(" ~ json_text('data', ['object', 'discount', 'end'])
        ~ " as bigint)") }} as discount_end_at,
    {{ json_has_key('data', ['previous_attributes'], 'discount') }} as had_previous_discount,
    {{ json_text('data', ['previous_attributes', 'discount', 'coupon', 'id']) }}
        as previous_coupon_id,
    cast({{ json_text('data', ['previous_attributes', 'discount', 'coupon', 'percent_off']) }}
        as {{ dbt.type_numeric() }}) as previous_discount_percent_off,
    {{ cents_to_units("cast(" ~ json_text('data', ['previous_attributes', 'discount', 'coupon',
        'amount_off']) ~ " as bigint)") }} as previous_discount_amount_off,
    {{ json_text('data', ['previous_attributes', 'discount', 'coupon', 'duration']) }}
        as previous_discount_duration,
    {{ from_unix_seconds("cast(" ~ json_text('data', ['previous_attributes', 'discount', 'start'])
        ~ " as bigint)") }} as previous_discount_start_at,
    {{ from_unix_seconds("cast(" ~ json_text('data', ['previous_attributes', 'discount', 'end'])
        ~ " as bigint)") }} as previous_discount_end_at,
    {{ json_has_key('data', ['previous_attributes'], 'items') }} as had_previous_items
from events
