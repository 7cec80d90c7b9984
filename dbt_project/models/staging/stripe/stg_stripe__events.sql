{#- Grain: event_id. One Stripe event as appended (the Events API keeps 30 days; earlier runs'
    events stay in the warehouse). `data` is the JSON payload: the object as it became and, for
    updates, `previous_attributes`. -#}
select
    id as event_id,
    type as event_type,
    object_type,
    object_id,
    {{ from_unix_seconds('created') }} as created_at,
    data
from {{ source('stripe', 'events') }}
