{#- Grain: account_id. Every account: each CRM account, plus each Stripe customer that matched
    no CRM account (account_id `stripe:<customer id>`, the id billing gives it, so every
    account in the revenue marts is here too). Its id in every source, CRM facts, CSM, and the
    billing picture of the current (as-of) month from int_mrr__account_monthly: MRR, ARR,
    segment by ARR, plan and seats.

    An account never billed has MRR 0 and the segment of ARR 0; plan and seats fall back to
    what the CRM records when billing has none (never billed, or churned). csm_slack_id is
    null: no loaded source carries a Slack user id (the Slack activation resolves it by the
    CSM's email at send time). -#}
with accounts as (
    select * from {{ ref('int_accounts') }}
),

account_months as (
    select * from {{ ref('int_mrr__account_monthly') }}
),

current_month as (
    select account_months.*
    from account_months
    where account_months.month = (select max(month) from account_months)
),

unmatched_customers as (
    select
        unmatched.source_record_id as customer_id,
        unmatched.record_name,
        unmatched.domain,
        cast(min(subscriptions.started_at) as date) as customer_since
    from {{ ref('int_identity__unmatched') }} as unmatched
    left join {{ ref('stg_stripe__subscriptions') }} as subscriptions
        on subscriptions.customer_id = unmatched.source_record_id
    where unmatched.source_system = 'stripe'
    group by unmatched.source_record_id, unmatched.record_name, unmatched.domain
),

all_accounts as (
    select
        account_id,
        crm_system,
        crm_account_id,
        stripe_customer_id,
        zendesk_organization_id,
        workspace_id,
        account_name,
        domain,
        industry,
        csm_id,
        csm_email,
        csm_name,
        crm_plan,
        crm_seats,
        renewal_date,
        lifecycle_stage,
        customer_since,
        is_deleted
    from accounts

    union all

    select
        'stripe:' || customer_id,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        customer_id,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        record_name,
        domain,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as integer),
        cast(null as date),
        cast(null as {{ dbt.type_string() }}),
        customer_since,
        false
    from unmatched_customers
)

select
    cast(all_accounts.account_id as {{ dbt.type_string() }}) as account_id,
    cast(all_accounts.crm_system as {{ dbt.type_string() }}) as crm_system,
    cast(all_accounts.crm_account_id as {{ dbt.type_string() }}) as crm_account_id,
    cast(all_accounts.stripe_customer_id as {{ dbt.type_string() }}) as stripe_customer_id,
    cast(all_accounts.zendesk_organization_id as {{ dbt.type_string() }})
        as zendesk_organization_id,
    cast(all_accounts.workspace_id as {{ dbt.type_string() }}) as workspace_id,
    cast(all_accounts.account_name as {{ dbt.type_string() }}) as account_name,
    cast(all_accounts.domain as {{ dbt.type_string() }}) as domain,
    cast(all_accounts.industry as {{ dbt.type_string() }}) as industry,
    cast(coalesce(current_month.segment, {{ segment_for_arr('0') }}) as {{ dbt.type_string() }})
        as segment,
    cast(all_accounts.csm_id as {{ dbt.type_string() }}) as csm_id,
    cast(all_accounts.csm_email as {{ dbt.type_string() }}) as csm_email,
    cast(all_accounts.csm_name as {{ dbt.type_string() }}) as csm_name,
    cast(null as {{ dbt.type_string() }}) as csm_slack_id,
    cast(coalesce(current_month.plan, all_accounts.crm_plan) as {{ dbt.type_string() }}) as plan,
    cast(
        case when current_month.mrr > 0 then current_month.seats else all_accounts.crm_seats end
        as integer
    ) as seats,
    cast(coalesce(current_month.mrr, 0) as {{ dbt.type_numeric() }}) as mrr,
    cast(coalesce(current_month.arr, 0) as {{ dbt.type_numeric() }}) as arr,
    cast(all_accounts.customer_since as date) as customer_since,
    cast(all_accounts.renewal_date as date) as renewal_date,
    cast(all_accounts.lifecycle_stage as {{ dbt.type_string() }}) as lifecycle_stage,
    cast(coalesce(current_month.mrr, 0) > 0 as boolean) as is_paying,
    cast(all_accounts.crm_account_id is not null as boolean) as is_in_crm,
    cast(all_accounts.is_deleted as boolean) as is_deleted
from all_accounts
left join current_month
    on current_month.account_id = all_accounts.account_id
