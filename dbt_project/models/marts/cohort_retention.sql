{{ config(contract={'enforced': true}) }}
{#- Grain: cohort_month, months_since_start, segment (`enterprise`, `mid_market`, `smb`, and
    `all`). A cohort is the accounts whose first paying month (MRR > 0 at its end) is
    cohort_month, in their segment of that month; for each month since, how many still pay
    (logo retention) and their MRR then ÷ their MRR in the cohort month (revenue retention,
    expansion included, so it can exceed 1). The first month of the billing history holds the
    accounts already paying when the history begins (`is_history_start_cohort`), not only the
    ones that started then. -#}
with monthly as (
    select * from {{ ref('int_mrr__account_monthly') }}
),

first_months as (
    select account_id, min(month) as cohort_month
    from monthly
    group by account_id
),

cohorts as (
    select
        monthly.account_id,
        monthly.month as cohort_month,
        monthly.segment,
        monthly.mrr as mrr_start
    from monthly
    inner join first_months
        on first_months.account_id = monthly.account_id
        and first_months.cohort_month = monthly.month
),

cohort_months as (
    select
        cohorts.cohort_month,
        {{ dbt.datediff('cohorts.cohort_month', 'monthly.month', 'month') }} as months_since_start,
        case split.kind when 'all' then 'all' else cohorts.segment end as segment,
        cohorts.account_id,
        cohorts.mrr_start,
        monthly.mrr
    from cohorts
    inner join monthly
        on monthly.account_id = cohorts.account_id
        and monthly.month >= cohorts.cohort_month
    cross join (select 'segment' as kind union all select 'all') as split
),

measured as (
    select
        cohort_month,
        months_since_start,
        segment,
        count(*) as accounts_start,
        sum(case when mrr > 0 then 1 else 0 end) as accounts_retained,
        sum(mrr_start) as mrr_start,
        sum(mrr) as mrr_retained
    from cohort_months
    group by cohort_month, months_since_start, segment
)

select
    measured.cohort_month,
    cast(measured.months_since_start as integer) as months_since_start,
    cast(measured.segment as {{ dbt.type_string() }}) as segment,
    measured.cohort_month = (select min(month) from monthly) as is_history_start_cohort,
    cast(measured.accounts_start as integer) as accounts_start,
    cast(measured.accounts_retained as integer) as accounts_retained,
    cast(1.0 * measured.accounts_retained / measured.accounts_start as {{ dbt.type_numeric() }})
        as logo_retention,
    cast(measured.mrr_start as {{ dbt.type_numeric() }}) as mrr_start,
    cast(measured.mrr_retained as {{ dbt.type_numeric() }}) as mrr_retained,
    cast(case when measured.mrr_start > 0 then measured.mrr_retained / measured.mrr_start end
        as {{ dbt.type_numeric() }}) as revenue_retention
from measured
