{#- Every account billing knows (int_mrr__account_monthly, including Stripe customers no CRM
    account claims) is in dim_accounts, and dim_accounts' MRR is the as-of month's MRR of that
    account: the account dimension and the revenue marts agree. Fails with each account
    missing or disagreeing. -#}
with billing as (
    select account_id, mrr
    from {{ ref('int_mrr__account_monthly') }}
    where month = (select max(month) from {{ ref('int_mrr__account_monthly') }})
)

select
    billing.account_id,
    billing.mrr as billing_mrr,
    dim.mrr as dim_mrr
from billing
left join {{ ref('dim_accounts') }} as dim
    on dim.account_id = billing.account_id
where dim.account_id is null or dim.mrr <> billing.mrr
