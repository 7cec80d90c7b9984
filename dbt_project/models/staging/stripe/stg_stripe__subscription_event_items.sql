{#- Grain: event_id, item_state, subscription_item_id. The items of the subscription in each
    subscription event: as they became (`after`, from data.object) and, when the event changed
    them, as they were (`before`, from data.previous_attributes), each with its price. -#}
with events as (
    select id, data
    from {{ source('stripe', 'events') }}
    where object_type = 'subscription'
),

items as (
    select events.id as event_id, 'after' as item_state, items.value as item
    from events
    cross join {{ json_array_elements('events.data', ['object', 'items', 'data'], 'items') }}
    union all
    select events.id, 'before', items.value
    from events
    cross join {{ json_array_elements('events.data', ['previous_attributes', 'items', 'data'],
        'items') }}
)

select
    event_id,
    item_state,
    {{ json_text('item', ['id']) }} as subscription_item_id,
    {{ json_text('item', ['price', 'id']) }} as price_id,
    {{ json_text('item', ['price', 'product']) }} as product_id,
    {{ cents_to_units("cast(" ~ json_text('item', ['price', 'unit_amount']) ~ " as bigint)") }}
        as unit_amount,
    {{ json_text('item', ['price', 'recurring', 'interval']) }} as billing_interval,
    cast({{ json_text('item', ['price', 'recurring', 'interval_count']) }} as integer)
        as interval_count,
    cast({{ json_text('item', ['quantity']) }} as integer) as quantity
from items
