{#- Grain: csm_id, date. Each CSM's book on each day of int_dates, by the account's current
    owner in the CRM (dim_accounts; ownership history is not recorded; accounts without an
    owner — e.g. billing-only accounts — form the book 'unassigned'). An account is in the book on a day when it pays in that month
    (month-end MRR, int_mrr__account_monthly). at_risk_arr: ARR of those whose health band that
    day is at_risk or critical. renewals_due_90d: accounts with an annual renewal in the next 90
    days (monthly terms renew continuously). nrr_trailing_12m: MRR now of the accounts paying
    at the end of month M-12 ÷ their MRR then (the retention_monthly definition, per CSM; null
    until the history holds M-12). save_rate: of the accounts flagged at risk in the 365 days up
    to the day whose outcome was known by then (fct_save_outcomes), the share saved. -#}
with dates as (

    select
        date,
        cast({{ dbt.date_trunc('month', 'date') }} as date) as month
    from {{ ref('int_dates') }}

),

owners as (

    select account_id, coalesce(csm_id, 'unassigned') as csm_id
    from {{ ref('dim_accounts') }}

),

monthly as (

    select account_id, month, mrr, arr from {{ ref('int_mrr__account_monthly') }}

),

books as (

    select distinct owners.csm_id from owners

),

paying_days as (

    select
        owners.csm_id,
        dates.date,
        monthly.account_id,
        monthly.arr,
        health.health_band
    from dates
    inner join monthly
        on monthly.month = dates.month
        and monthly.mrr > 0
    inner join owners
        on owners.account_id = monthly.account_id
    left join {{ ref('fct_account_health_daily') }} as health
        on health.account_id = monthly.account_id
        and health.date = dates.date

),

book_totals as (

    select
        csm_id,
        date,
        count(*) as accounts,
        sum(arr) as arr,
        sum(case when health_band in ('at_risk', 'critical') then arr else 0 end)
            as at_risk_arr
    from paying_days
    group by csm_id, date

),

renewals_due as (

    select
        paying_days.csm_id,
        paying_days.date,
        count(distinct paying_days.account_id) as renewals_due_90d
    from paying_days
    inner join {{ ref('int_lifecycle__renewals') }} as renewals
        on renewals.account_id = paying_days.account_id
        and renewals.is_annual
        and renewals.renewal_on > paying_days.date
        and renewals.renewal_on <= cast({{ dbt.dateadd('day', 90, 'paying_days.date') }} as date)
    group by paying_days.csm_id, paying_days.date

),

trailing_nrr as (

    select
        owners.csm_id,
        now_.month,
        sum(now_.mrr) / sum(base.mrr) as nrr_trailing_12m
    from monthly as base
    inner join monthly as now_
        on now_.account_id = base.account_id
        and now_.month = cast({{ dbt.dateadd('month', 12, 'base.month') }} as date)
    inner join owners
        on owners.account_id = base.account_id
    where base.mrr > 0
    group by owners.csm_id, now_.month

),

save_rates as (

    select
        dates.date,
        owners.csm_id,
        count(distinct case when outcomes.outcome = 'saved' then outcomes.account_id end)
            as accounts_saved,
        count(distinct outcomes.account_id) as accounts_resolved
    from dates
    inner join {{ ref('fct_save_outcomes') }} as outcomes
        on outcomes.resolved_on <= dates.date
        and outcomes.flagged_on > cast({{ dbt.dateadd('day', -365, 'dates.date') }} as date)
    inner join owners
        on owners.account_id = outcomes.account_id
    group by dates.date, owners.csm_id

),

grid as (

    select books.csm_id, dates.date, dates.month
    from books
    cross join dates

)

select
    cast(grid.csm_id as {{ dbt.type_string() }}) as csm_id,
    grid.date,
    cast(csms.csm_name as {{ dbt.type_string() }}) as csm_name,
    cast(csms.csm_email as {{ dbt.type_string() }}) as csm_email,
    cast(coalesce(book_totals.accounts, 0) as integer) as accounts,
    cast(coalesce(book_totals.arr, 0) as {{ dbt.type_numeric() }}) as arr,
    cast(coalesce(book_totals.at_risk_arr, 0) as {{ dbt.type_numeric() }}) as at_risk_arr,
    cast(coalesce(renewals_due.renewals_due_90d, 0) as integer) as renewals_due_90d,
    cast(trailing_nrr.nrr_trailing_12m as {{ dbt.type_numeric() }}) as nrr_trailing_12m,
    cast(case when save_rates.accounts_resolved > 0
        then 1.0 * save_rates.accounts_saved / save_rates.accounts_resolved
    end as {{ dbt.type_numeric() }}) as save_rate,
    cast(coalesce(save_rates.accounts_resolved, 0) as integer) as save_outcomes_resolved
from grid
left join {{ ref('int_csms') }} as csms
    on csms.csm_id = grid.csm_id
left join book_totals
    on book_totals.csm_id = grid.csm_id
    and book_totals.date = grid.date
left join renewals_due
    on renewals_due.csm_id = grid.csm_id
    and renewals_due.date = grid.date
left join trailing_nrr
    on trailing_nrr.csm_id = grid.csm_id
    and trailing_nrr.month = grid.month
left join save_rates
    on save_rates.csm_id = grid.csm_id
    and save_rates.date = grid.date
