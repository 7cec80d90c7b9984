{#- Grain: subscription_id, month. The month-end MRR of each subscription active at the end of
    the month (DESIGN.md §5), from the first month whose end every subscription's state is
    known at to the as-of month: the monthly-normalised price × quantity of the items it had at
    that instant, after the discount it had then. The current month ends at the as-of day.

    The state at an instant is rebuilt from history, never from today's state: the latest full
    listing of the subscription's items before the instant (a period invoice, or the state as
    last loaded once it holds), updated by later mid-period changes (proration lines), and the
    discount of the latest listing, unless it ended by then or applied once (a `once` coupon
    cuts one invoice, not the contracted price). An amount-off coupon comes off every invoice,
    so it is normalised by the billing period like the price. -#}
with as_of as (
    select * from {{ ref('int_billing__as_of') }}
),

items as (
    select * from {{ ref('int_billing__subscription_item_history') }}
),

{#- History begins with the month whose end every subscription's state is known at. A
    subscription that started before its first invoice in the warehouse (created before billing
    moved to Stripe, or before the invoices loaded) has an unknown state until that invoice, and
    an unknown month is not a month at zero: counting it as zero would show its revenue as new
    when the invoice appears. -#}
first_invoiced as (
    select subscription_id, min(effective_at) as first_invoiced_at
    from items
    where source like 'invoice%'
    group by subscription_id
),

history_start as (
    select
        coalesce(
            max(case
                when subscriptions.started_at
                    < {{ dbt.dateadd('day', -1, 'first_invoiced.first_invoiced_at') }}
                then first_invoiced.first_invoiced_at
            end),
            min(first_invoiced.first_invoiced_at)
        ) as history_start_at
    from first_invoiced
    inner join {{ ref('stg_stripe__subscriptions') }} as subscriptions
        on subscriptions.subscription_id = first_invoiced.subscription_id
),

first_month as (
    select cast({{ dbt.date_trunc('month', 'history_start_at') }} as date) as month
    from history_start
),

digits as (
    select 0 as digit union all select 1 union all select 2 union all select 3
    union all select 4 union all select 5 union all select 6 union all select 7
    union all select 8 union all select 9
),

month_offsets as (
    select hundreds.digit * 100 + tens.digit * 10 + ones.digit as month_offset
    from digits as hundreds
    cross join digits as tens
    cross join digits as ones
),

months as (
    select
        cast({{ dbt.dateadd('month', 'month_offsets.month_offset', 'first_month.month') }} as date)
            as month
    from first_month
    cross join month_offsets
),

month_ends as (
    select
        months.month,
        case
            when months.month = as_of.as_of_month then as_of.as_of_end_at
            else cast({{ dbt.dateadd('month', 1, 'months.month') }} as timestamp)
        end as month_end_at
    from months
    cross join as_of
    where months.month <= as_of.as_of_month
),

{#- Active at the month's last instant: started before it, not ended before it, past any
    trial, and not a subscription whose first payment never went through. -#}
subscription_months as (
    select
        subscriptions.subscription_id,
        subscriptions.customer_id,
        month_ends.month,
        month_ends.month_end_at
    from {{ ref('stg_stripe__subscriptions') }} as subscriptions
    inner join month_ends
        on subscriptions.started_at < month_ends.month_end_at
        and (subscriptions.ended_at is null or subscriptions.ended_at >= month_ends.month_end_at)
        and (subscriptions.trial_end_at is null
             or subscriptions.trial_end_at < month_ends.month_end_at)
    where subscriptions.status not in ('incomplete', 'incomplete_expired')
),

{#- Each item state is valid from its effective_at until the item's next state or the
    subscription's next full listing (which drops items it does not list), whichever comes
    first; a state counts at a month end T when effective_at < T <= valid_to. Intervals are
    joined to the short list of month ends rather than every month to every history row. -#}
item_changes as (
    select
        items.*,
        lead(effective_at) over (
            partition by subscription_id, subscription_item_id order by effective_at
        ) as next_change_at
    from (
        select
            items.*,
            row_number() over (
                partition by subscription_id, subscription_item_id, effective_at
                order by source_priority desc
            ) as tie_rank
        from items
    ) as items
    where tie_rank = 1
),

item_sequence as (
    select
        subscription_id, subscription_item_id, effective_at, next_change_at, is_removed,
        product_id, quantity, unit_amount, billing_interval, interval_count, 0 as is_listing
    from item_changes
    union all
    select distinct
        subscription_id,
        cast(null as {{ dbt.type_string() }}),
        effective_at,
        cast(null as timestamp),
        false,
        cast(null as {{ dbt.type_string() }}),
        cast(null as integer),
        cast(null as {{ dbt.type_numeric() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as integer),
        1
    from items
    where is_full_listing
),

item_intervals as (
    select
        *,
        min(case when is_listing = 1 then effective_at end) over (
            partition by subscription_id
            order by effective_at, is_listing desc
            rows between 1 following and unbounded following
        ) as next_listing_at
    from item_sequence
),

item_states as (
    select
        subscription_months.subscription_id,
        subscription_months.month,
        item_intervals.subscription_item_id,
        item_intervals.product_id,
        item_intervals.quantity,
        item_intervals.unit_amount * item_intervals.quantity
            / {{ billing_period_months('item_intervals.billing_interval',
                                       'item_intervals.interval_count') }} as item_mrr,
        {{ billing_period_months('item_intervals.billing_interval',
                                 'item_intervals.interval_count') }} as period_months
    from item_intervals
    inner join month_ends
        on item_intervals.effective_at < month_ends.month_end_at
        and (item_intervals.next_change_at is null
             or month_ends.month_end_at <= item_intervals.next_change_at)
        and (item_intervals.next_listing_at is null
             or month_ends.month_end_at <= item_intervals.next_listing_at)
    inner join subscription_months
        on subscription_months.subscription_id = item_intervals.subscription_id
        and subscription_months.month = month_ends.month
    where item_intervals.is_listing = 0
        and not item_intervals.is_removed
),

active_items as (
    select
        item_states.*,
        row_number() over (
            partition by subscription_id, month
            order by item_mrr desc, subscription_item_id
        ) as size_rank
    from item_states
),

gross as (
    select
        active_items.subscription_id,
        active_items.month,
        sum(active_items.item_mrr) as gross_mrr,
        sum(active_items.quantity) as seats,
        count(*) as item_count,
        min(active_items.period_months) as period_months,
        max(case when active_items.size_rank = 1 then products.plan end) as plan
    from active_items
    left join {{ ref('stg_stripe__products') }} as products
        on products.product_id = active_items.product_id
    group by active_items.subscription_id, active_items.month
),

discount_intervals as (
    select
        history.*,
        lead(effective_at) over (
            partition by subscription_id order by effective_at
        ) as next_change_at
    from (
        select
            history.*,
            row_number() over (
                partition by subscription_id, effective_at order by source_priority desc
            ) as tie_rank
        from {{ ref('int_billing__subscription_discount_history') }} as history
    ) as history
    where tie_rank = 1
),

discounts as (
    select
        discount_intervals.subscription_id,
        month_ends.month,
        discount_intervals.coupon_id,
        discount_intervals.discount_percent_off,
        discount_intervals.discount_amount_off
    from discount_intervals
    inner join month_ends
        on discount_intervals.effective_at < month_ends.month_end_at
        and (discount_intervals.next_change_at is null
             or month_ends.month_end_at <= discount_intervals.next_change_at)
    where discount_intervals.coupon_id is not null
        and coalesce(discount_intervals.discount_duration, '') <> 'once'
        and (discount_intervals.discount_end_at is null
             or discount_intervals.discount_end_at >= month_ends.month_end_at)
),

priced as (
    select
        subscription_months.subscription_id,
        subscription_months.customer_id,
        subscription_months.month,
        subscription_months.month_end_at,
        gross.plan,
        gross.seats,
        gross.item_count,
        gross.gross_mrr,
        discounts.coupon_id,
        case when discounts.coupon_id is null then gross.gross_mrr
            else greatest(0,
                gross.gross_mrr * (1 - coalesce(discounts.discount_percent_off, 0) / 100)
                - coalesce(discounts.discount_amount_off, 0) / gross.period_months)
        end as mrr
    from subscription_months
    inner join gross
        on gross.subscription_id = subscription_months.subscription_id
        and gross.month = subscription_months.month
    left join discounts
        on discounts.subscription_id = subscription_months.subscription_id
        and discounts.month = subscription_months.month
)

select
    subscription_id,
    customer_id,
    month,
    month_end_at,
    plan,
    cast(seats as integer) as seats,
    cast(item_count as integer) as item_count,
    cast(gross_mrr as {{ dbt.type_numeric() }}) as gross_mrr,
    coupon_id,
    cast(gross_mrr - mrr as {{ dbt.type_numeric() }}) as discount_mrr,
    cast(mrr as {{ dbt.type_numeric() }}) as mrr
from priced
