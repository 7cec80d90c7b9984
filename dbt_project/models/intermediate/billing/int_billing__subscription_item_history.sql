{#- Grain: subscription_id, subscription_item_id, effective_at, source. What each subscription
    item was (price, quantity) from `effective_at` on, as told by each source:

    - `invoice_cycle`: a period invoice lists every item billed for the period starting then;
    - `invoice_proration`: a mid-period change credits the old price and charges the new one
      from the moment of the change (an item credited without a new charge was removed);
    - `event`: a subscription event's object lists the items as they became then;
    - `event_previous`: the items before the first loaded event of a subscription (the event's
      previous_attributes over its object) have held since the loaded events begin: a change
      in between would have come with an event of its own;
    - `current`: the subscription as last loaded; it has held since the event that wrote it,
      or, for a row listed without an event, since the loaded events begin (a change after that
      would have come with an event), or, when no events were loaded, on the as-of day only.

    `is_full_listing` marks rows that list all the subscription's items at that instant (an item
    missing from a full listing is no longer on the subscription). -#}
with as_of as (
    select * from {{ ref('int_billing__as_of') }}
),

cycle_lines as (
    select
        subscription_id,
        subscription_item_id,
        period_start_at as effective_at,
        'invoice_cycle' as source,
        true as is_full_listing,
        false as is_removed,
        price_id,
        product_id,
        unit_amount,
        billing_interval,
        interval_count,
        quantity,
        row_number() over (
            partition by subscription_id, subscription_item_id, period_start_at
            order by invoice_line_id
        ) as duplicate_rank
    from {{ ref('stg_stripe__invoice_lines') }}
    where not is_proration
        and line_type = 'subscription'
        and subscription_id is not null
        and billing_interval is not null
),

proration_lines as (
    {#- Per item and instant, the charge for the new state wins over the credit for the old. -#}
    select
        subscription_id,
        subscription_item_id,
        period_start_at as effective_at,
        'invoice_proration' as source,
        false as is_full_listing,
        amount < 0 as is_removed,
        price_id,
        product_id,
        unit_amount,
        billing_interval,
        interval_count,
        quantity,
        row_number() over (
            partition by subscription_id, subscription_item_id, period_start_at
            order by amount desc, invoice_line_id
        ) as duplicate_rank
    from {{ ref('stg_stripe__invoice_lines') }}
    where is_proration
        and subscription_id is not null
        and subscription_item_id is not null
        and billing_interval is not null
),

subscription_events as (
    select
        events.*,
        row_number() over (
            partition by subscription_id order by created_at, event_id
        ) as event_rank,
        row_number() over (
            partition by subscription_id, created_at order by event_id desc
        ) as same_instant_rank
    from {{ ref('stg_stripe__subscription_events') }} as events
),

event_items as (
    select
        subscription_events.subscription_id,
        items.subscription_item_id,
        subscription_events.created_at as effective_at,
        'event' as source,
        true as is_full_listing,
        false as is_removed,
        items.price_id,
        items.product_id,
        items.unit_amount,
        items.billing_interval,
        items.interval_count,
        items.quantity,
        subscription_events.same_instant_rank as duplicate_rank
    from subscription_events
    inner join {{ ref('stg_stripe__subscription_event_items') }} as items
        on items.event_id = subscription_events.event_id
        and items.item_state = 'after'
    where items.billing_interval is not null
),

items_before_events as (
    select
        subscription_events.subscription_id,
        items.subscription_item_id,
        as_of.events_start_at as effective_at,
        'event_previous' as source,
        true as is_full_listing,
        false as is_removed,
        items.price_id,
        items.product_id,
        items.unit_amount,
        items.billing_interval,
        items.interval_count,
        items.quantity,
        1 as duplicate_rank
    from subscription_events
    cross join as_of
    inner join {{ ref('stg_stripe__subscription_event_items') }} as items
        on items.event_id = subscription_events.event_id
        and items.item_state
            = case when subscription_events.had_previous_items then 'before' else 'after' end
    where subscription_events.event_rank = 1
        and subscription_events.event_type <> 'customer.subscription.created'
        and items.billing_interval is not null
),

current_items as (
    select
        subscriptions.subscription_id,
        items.subscription_item_id,
        coalesce(
            subscriptions.changed_at,
            as_of.events_start_at,
            cast(as_of.as_of_date as timestamp)
        ) as effective_at,
        'current' as source,
        true as is_full_listing,
        false as is_removed,
        items.price_id,
        items.product_id,
        items.unit_amount,
        items.billing_interval,
        items.interval_count,
        items.quantity,
        1 as duplicate_rank
    from {{ ref('stg_stripe__subscriptions') }} as subscriptions
    inner join {{ ref('stg_stripe__subscription_items') }} as items
        on items.subscription_id = subscriptions.subscription_id
    cross join as_of
    where items.billing_interval is not null
),

unioned as (
    select * from cycle_lines
    union all
    select * from proration_lines
    union all
    select * from event_items
    union all
    select * from items_before_events
    union all
    select * from current_items
)

select
    subscription_id,
    subscription_item_id,
    effective_at,
    source,
    {{ billing_source_priority('source') }} as source_priority,
    is_full_listing,
    is_removed,
    price_id,
    product_id,
    unit_amount,
    billing_interval,
    interval_count,
    quantity
from unioned
where duplicate_rank = 1
