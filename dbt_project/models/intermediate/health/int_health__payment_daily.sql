{#- Grain: account_id, date. Payment, 0..100: on time = 100; over the invoices due in the last
    90 days, each day the oldest one has been overdue on that day costs
    `payment_points_per_overdue_day` and each failed payment attempt
    `payment_points_per_failed_attempt` (seed health_norms). An invoice counts as overdue on a
    day after its due day while it is still unpaid on that day, so the history is what the
    day knew. Missing for an account without a Stripe customer. -#}
with days as (

    select account_id, date, segment from {{ ref('int_health__account_days') }}
    where is_customer

),

customers as (

    select distinct account_id
    from {{ ref('int_identity__account_keys') }}
    where source_system = 'stripe'

),

invoices as (

    select account_id, invoice_id, due_on, paid_on, failed_attempts
    from {{ ref('int_billing__payment_issues') }}

),

invoice_days as (

    select
        days.account_id,
        days.date,
        max(case when invoices.due_on < days.date
                  and (invoices.paid_on is null or invoices.paid_on > days.date)
                 then {{ dbt.datediff('invoices.due_on', 'days.date', 'day') }}
                 else 0 end) as max_days_overdue,
        sum(coalesce(invoices.failed_attempts, 0)) as failed_attempts_90d
    from days
    inner join invoices
        on days.account_id = invoices.account_id
        and invoices.due_on <= days.date
        and invoices.due_on > {{ dbt.dateadd('day', -90, 'days.date') }}
    group by days.account_id, days.date

),

norms as (

    select * from {{ ref('health_norms') }}

),

final as (

    select
        days.account_id,
        days.date,
        coalesce(invoice_days.max_days_overdue, 0) as max_days_overdue,
        coalesce(invoice_days.failed_attempts_90d, 0) as failed_attempts_90d,
        case when customers.account_id is not null then
            greatest(0.0, 100.0
                - norms.payment_points_per_overdue_day
                    * coalesce(invoice_days.max_days_overdue, 0)
                - norms.payment_points_per_failed_attempt
                    * coalesce(invoice_days.failed_attempts_90d, 0))
        end as payment_score
    from days
    left join invoice_days
        on days.account_id = invoice_days.account_id and days.date = invoice_days.date
    left join customers on days.account_id = customers.account_id
    left join norms on days.segment = norms.segment

)

select * from final
