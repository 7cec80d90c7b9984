{#- Grain: subscription_id, effective_at, source. The discount a subscription had from
    `effective_at` on (all discount columns null: none), from the same full listings as
    `int_billing__subscription_item_history`: each period invoice (the discount it was issued
    under, from the start of the period it bills), each subscription event's object, the state
    before the first loaded event (its previous_attributes, from where the loaded events
    begin), and the subscription as last loaded; and each
    discount those name, from its own start (`discount_start`): a coupon attached mid-period,
    such as a renewal save offer, lowers MRR from that day, not from the next invoice. Whether a
    discount still applies at a later instant (its end, `once` coupons) is decided where MRR is
    computed. -#}
with cycle_listings as (
    select
        invoice_id,
        subscription_id,
        min(period_start_at) as effective_at
    from {{ ref('stg_stripe__invoice_lines') }}
    where not is_proration
        and line_type = 'subscription'
        and subscription_id is not null
    group by invoice_id, subscription_id
),

invoice_discounts as (
    select
        cycle_listings.subscription_id,
        cycle_listings.effective_at,
        'invoice_cycle' as source,
        invoices.coupon_id,
        invoices.discount_percent_off,
        invoices.discount_amount_off,
        invoices.discount_duration,
        invoices.discount_start_at,
        invoices.discount_end_at,
        row_number() over (
            partition by cycle_listings.subscription_id, cycle_listings.effective_at
            order by invoices.created_at desc, invoices.invoice_id
        ) as duplicate_rank
    from cycle_listings
    inner join {{ ref('stg_stripe__invoices') }} as invoices
        on invoices.invoice_id = cycle_listings.invoice_id
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

event_discounts as (
    select
        subscription_id,
        created_at as effective_at,
        'event' as source,
        coupon_id,
        discount_percent_off,
        discount_amount_off,
        discount_duration,
        discount_start_at,
        discount_end_at,
        same_instant_rank as duplicate_rank
    from subscription_events
),

discounts_before_events as (
    select
        subscription_events.subscription_id,
        as_of.events_start_at as effective_at,
        'event_previous' as source,
        case when had_previous_discount then previous_coupon_id else coupon_id end,
        case when had_previous_discount then previous_discount_percent_off
            else discount_percent_off end,
        case when had_previous_discount then previous_discount_amount_off
            else discount_amount_off end,
        case when had_previous_discount then previous_discount_duration
            else discount_duration end,
        case when had_previous_discount then previous_discount_start_at
            else discount_start_at end,
        case when had_previous_discount then previous_discount_end_at
            else discount_end_at end,
        1 as duplicate_rank
    from subscription_events
    cross join {{ ref('int_billing__as_of') }} as as_of
    where subscription_events.event_rank = 1
        and subscription_events.event_type <> 'customer.subscription.created'
),

current_listings as (
    select distinct subscription_id, effective_at
    from {{ ref('int_billing__subscription_item_history') }}
    where source = 'current'
),

current_discounts as (
    select
        subscriptions.subscription_id,
        current_listings.effective_at,
        'current' as source,
        subscriptions.coupon_id,
        subscriptions.discount_percent_off,
        subscriptions.discount_amount_off,
        subscriptions.discount_duration,
        subscriptions.discount_start_at,
        subscriptions.discount_end_at,
        1 as duplicate_rank
    from {{ ref('stg_stripe__subscriptions') }} as subscriptions
    inner join current_listings
        on current_listings.subscription_id = subscriptions.subscription_id
),

listed as (
    select * from invoice_discounts
    union all
    select * from event_discounts
    union all
    select * from discounts_before_events
    union all
    select * from current_discounts
),

discount_starts as (
    select
        subscription_id,
        discount_start_at as effective_at,
        'discount_start' as source,
        coupon_id,
        discount_percent_off,
        discount_amount_off,
        discount_duration,
        discount_start_at,
        discount_end_at,
        row_number() over (
            partition by subscription_id, discount_start_at
            order by source desc
        ) as duplicate_rank
    from listed
    where coupon_id is not null
        and discount_start_at is not null
        and duplicate_rank = 1
),

unioned as (
    select * from listed where duplicate_rank = 1
    union all
    select * from discount_starts
)

select
    subscription_id,
    effective_at,
    source,
    {{ billing_source_priority('source') }} as source_priority,
    coupon_id,
    discount_percent_off,
    discount_amount_off,
    discount_duration,
    discount_start_at,
    discount_end_at
from unioned
where duplicate_rank = 1
