{#- Grain: account_id, month. Every month from the account's first paying month (MRR > 0 at its
    end) to the as-of month, zeros included after churn: the month-end MRR of the account's
    subscriptions (DESIGN.md §5), ARR = 12 × MRR, the segment by ARR (a month at zero keeps the
    segment of the last paying month), the subscriptions paying at month end, the plan of the
    largest one and the seats of all.

    account_id from int_billing__customer_accounts: a customer that matched no account still
    counts, as account `stripe:<customer id>`. -#}
with subscription_months as (
    select * from {{ ref('int_mrr__subscription_monthly') }}
),

account_subscription_months as (
    select
        customer_accounts.account_id,
        subscription_months.*,
        row_number() over (
            partition by customer_accounts.account_id, subscription_months.month
            order by subscription_months.mrr desc, subscription_months.subscription_id
        ) as size_rank
    from subscription_months
    inner join {{ ref('int_billing__customer_accounts') }} as customer_accounts
        on customer_accounts.customer_id = subscription_months.customer_id
),

paying as (
    select
        account_id,
        month,
        sum(mrr) as mrr,
        sum(case when mrr > 0 then 1 else 0 end) as subscription_count,
        max(case when size_rank = 1 then plan end) as plan,
        sum(seats) as seats
    from account_subscription_months
    group by account_id, month
),

first_paying as (
    select account_id, min(month) as first_month
    from paying
    where mrr > 0
    group by account_id
),

months as (
    select distinct month from subscription_months
),

account_months as (
    select first_paying.account_id, months.month
    from first_paying
    inner join months
        on months.month >= first_paying.first_month
),

filled as (
    select
        account_months.account_id,
        account_months.month,
        coalesce(paying.mrr, 0) as mrr,
        coalesce(paying.subscription_count, 0) as subscription_count,
        case when paying.mrr > 0 then paying.plan end as plan,
        case when paying.mrr > 0 then paying.seats else 0 end as seats,
        max(case when paying.mrr > 0 then account_months.month end) over (
            partition by account_months.account_id
            order by account_months.month
            rows between unbounded preceding and current row
        ) as last_paying_month
    from account_months
    left join paying
        on paying.account_id = account_months.account_id
        and paying.month = account_months.month
)

select
    filled.account_id,
    filled.month,
    cast(filled.mrr as {{ dbt.type_numeric() }}) as mrr,
    cast(12 * filled.mrr as {{ dbt.type_numeric() }}) as arr,
    {{ segment_for_arr('12 * last_paying.mrr') }} as segment,
    cast(filled.subscription_count as integer) as subscription_count,
    filled.plan,
    cast(filled.seats as integer) as seats
from filled
inner join paying as last_paying
    on last_paying.account_id = filled.account_id
    and last_paying.month = filled.last_paying_month
