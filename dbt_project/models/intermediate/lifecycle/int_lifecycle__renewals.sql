{#- Grain: account_id, renewal_on. Every day an account's subscription term ends and renews:
    the service-period ends of its Stripe subscription invoice lines (past terms and the
    current one, whose invoice is already out), plus the renewal date the CRM records.
    is_annual marks terms of a year or more — the renewals a CSM prepares for; monthly and
    weekly terms renew continuously and are watched through churn instead. -#}
with stripe_keys as (

    select source_record_id as customer_id, account_id
    from {{ ref('int_identity__account_keys') }}
    where source_system = 'stripe'

),

billed_terms as (

    select
        stripe_keys.account_id,
        cast(lines.period_end_at as date) as renewal_on,
        case when lines.billing_interval = 'year' then 1 else 0 end as annual_flag
    from {{ ref('stg_stripe__invoice_lines') }} as lines
    inner join {{ ref('stg_stripe__invoices') }} as invoices
        on invoices.invoice_id = lines.invoice_id
    inner join stripe_keys
        on stripe_keys.customer_id = invoices.customer_id
    where lines.subscription_id is not null
        and not coalesce(lines.is_proration, false)
        and lines.period_end_at is not null

),

crm_renewals as (

    select account_id, renewal_date as renewal_on, 0 as annual_flag
    from {{ ref('int_accounts') }}
    where renewal_date is not null
        and not is_deleted

),

all_renewals as (

    select account_id, renewal_on, annual_flag from billed_terms
    union all
    select account_id, renewal_on, annual_flag from crm_renewals

)

select
    account_id,
    renewal_on,
    max(annual_flag) = 1 as is_annual
from all_renewals
group by account_id, renewal_on
