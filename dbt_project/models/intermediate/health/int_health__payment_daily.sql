{#- Grain: account_id, date. Payment, 0..100: on time = 100. Each day the longest-overdue
    invoice due in the last 90 days had been overdue on that day costs
    `payment_points_per_overdue_day`, and each payment attempt that failed in the last 90 days
    `payment_points_per_failed_attempt` (seed health_norms). Both are dated, so a past day
    scores what was known on it: an invoice counts as overdue after its due day while still
    unpaid on that day, a failure from the day Stripe recorded the failed charge. Missing for an
    account without a Stripe customer. -#}
with days as (

    select account_id, date, segment from {{ ref('int_health__account_days') }}
    where is_customer

),

customers as (

    select source_record_id as customer_id, account_id
    from {{ ref('int_identity__account_keys') }}
    where source_system = 'stripe'

),

invoices as (

    select account_id, due_on, paid_on
    from {{ ref('int_billing__payment_issues') }}

),

failures as (

    select customers.account_id, cast(charges.created_at as date) as failed_on
    from {{ ref('stg_stripe__charges') }} as charges
    inner join customers on charges.customer_id = customers.customer_id
    where charges.status = 'failed'

),

overdue_days as (

    select
        days.account_id,
        days.date,
        max(case when invoices.due_on < days.date
                  and (invoices.paid_on is null or invoices.paid_on > days.date)
                 then {{ dbt.datediff('invoices.due_on', 'days.date', 'day') }}
                 else 0 end) as max_days_overdue
    from days
    inner join invoices
        on days.account_id = invoices.account_id
        and invoices.due_on <= days.date
        and invoices.due_on > {{ dbt.dateadd('day', -90, 'days.date') }}
    group by days.account_id, days.date

),

failure_days as (

    select days.account_id, days.date, count(*) as failed_attempts_90d
    from days
    inner join failures
        on days.account_id = failures.account_id
        and failures.failed_on <= days.date
        and failures.failed_on > {{ dbt.dateadd('day', -90, 'days.date') }}
    group by days.account_id, days.date

),

norms as (

    select * from {{ ref('health_norms') }}

),

final as (

    select
        days.account_id,
        days.date,
        coalesce(overdue_days.max_days_overdue, 0) as max_days_overdue,
        coalesce(failure_days.failed_attempts_90d, 0) as failed_attempts_90d,
        case when days.account_id in (select account_id from customers) then
            greatest(0.0, 100.0
                - norms.payment_points_per_overdue_day
                    * coalesce(overdue_days.max_days_overdue, 0)
                - norms.payment_points_per_failed_attempt
                    * coalesce(failure_days.failed_attempts_90d, 0))
        end as payment_score
    from days
    left join overdue_days
        on days.account_id = overdue_days.account_id and days.date = overdue_days.date
    left join failure_days
        on days.account_id = failure_days.account_id and days.date = failure_days.date
    left join norms on days.segment = norms.segment

)

select * from final
