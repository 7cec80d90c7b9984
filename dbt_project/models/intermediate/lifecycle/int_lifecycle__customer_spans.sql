{#- Grain: account_id. When each billed account was a customer: customer_since (its first
    subscription start, int_accounts) and, when it is not paying in the as-of month, the last
    day of its last paying month (null while it still pays). Touchpoints fall in this span. -#}
with monthly as (

    select * from {{ ref('int_mrr__account_monthly') }}

),

as_of as (

    select
        as_of_date,
        cast({{ dbt.date_trunc('month', 'as_of_date') }} as date) as as_of_month
    from {{ ref('int_lifecycle__as_of') }}

),

paying as (

    select
        monthly.account_id,
        max(case when monthly.mrr > 0 then monthly.month end) as last_paying_month,
        max(case when monthly.month = as_of.as_of_month and monthly.mrr > 0 then 1 else 0 end)
            as pays_in_as_of_month
    from monthly
    cross join as_of
    where monthly.month <= as_of.as_of_month
    group by monthly.account_id

)

select
    accounts.account_id,
    accounts.csm_id,
    accounts.customer_since,
    case
        when paying.pays_in_as_of_month = 0 and paying.last_paying_month is not null
            then cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'paying.last_paying_month')) }}
                as date)
    end as customer_until
from {{ ref('int_accounts') }} as accounts
inner join paying
    on paying.account_id = accounts.account_id
where accounts.customer_since is not null
    and not accounts.is_deleted
