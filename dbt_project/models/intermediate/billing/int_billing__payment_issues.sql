{#- Grain: invoice_id. The invoices with a payment problem: a failed charge, a payment after
    the due day, or still unpaid past it on the as-of day (uncollectible ones included). An
    invoice charged automatically is due the day it is created (its charge is made then and
    retried on failure); one sent for manual payment on its due date. days_overdue is as of the
    as-of day: days past due while unpaid, 0 once paid. Account from int_billing__customer_accounts. -#}
with as_of as (
    select * from {{ ref('int_billing__as_of') }}
),

failed_charges as (
    select invoice_id, count(*) as failed_attempts
    from {{ ref('stg_stripe__charges') }} as charges
    cross join as_of
    where charges.status = 'failed'
        and invoice_id is not null
        and charges.created_at < as_of.as_of_end_at
    group by invoice_id
),

invoices as (
    select
        invoices.invoice_id,
        invoices.customer_id,
        invoices.subscription_id,
        invoices.status,
        invoices.collection_method,
        invoices.amount_due,
        invoices.amount_remaining,
        cast(coalesce(invoices.due_at, invoices.created_at) as date) as due_on,
        case when invoices.paid_at < as_of.as_of_end_at then cast(invoices.paid_at as date) end
            as paid_on,
        coalesce(failed_charges.failed_attempts, 0) as failed_attempts,
        as_of.as_of_date
    from {{ ref('stg_stripe__invoices') }} as invoices
    cross join as_of
    left join failed_charges
        on failed_charges.invoice_id = invoices.invoice_id
    where invoices.created_at < as_of.as_of_end_at
        and invoices.amount_due > 0
        and invoices.status not in ('draft', 'void')
        and not invoices.is_deleted
)

select
    customer_accounts.account_id,
    invoices.invoice_id,
    invoices.customer_id,
    invoices.subscription_id,
    invoices.status,
    invoices.collection_method,
    invoices.amount_due,
    invoices.amount_remaining,
    invoices.due_on,
    invoices.paid_on,
    cast(invoices.failed_attempts as integer) as failed_attempts,
    cast(case
        when invoices.paid_on is null and invoices.due_on < invoices.as_of_date
        then {{ dbt.datediff('invoices.due_on', 'invoices.as_of_date', 'day') }}
        else 0
    end as integer) as days_overdue,
    cast(case when invoices.paid_on > invoices.due_on
        then {{ dbt.datediff('invoices.due_on', 'invoices.paid_on', 'day') }}
        else 0
    end as integer) as days_paid_late
from invoices
inner join {{ ref('int_billing__customer_accounts') }} as customer_accounts
    on customer_accounts.customer_id = invoices.customer_id
where invoices.failed_attempts > 0
    or invoices.paid_on > invoices.due_on
    or (invoices.paid_on is null and invoices.due_on < invoices.as_of_date)
