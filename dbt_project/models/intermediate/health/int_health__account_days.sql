{#- Grain: account_id, date — every day from an account's first to its last customer day,
    without gaps, so rolling windows can count rows as days (ROWS frames behave the same on
    DuckDB and PostgreSQL; RANGE frames over dates do not). is_customer marks the days the
    account paid for (a month with MRR at its end, and the month it churned in, from the
    customer_since day on); only those days get a health row. Segment, seats and MRR are those
    at the end of the month before (what was known on the day: a month's own month-end values
    would let a later upgrade or churn leak into its first days), or the month's own in an
    account's first paying month. -#}
with dates as (

    select date, {{ dbt.date_trunc('month', 'date') }} as month from {{ ref('int_dates') }}

),

accounts as (

    select account_id, customer_since from {{ ref('int_accounts') }}

),

monthly as (

    select * from {{ ref('int_mrr__account_monthly') }}

),

customer_months as (

    select
        monthly.account_id,
        cast(monthly.month as date) as month,
        case when previous.mrr > 0 then previous.segment else monthly.segment end as segment,
        case when previous.mrr > 0 then previous.seats else monthly.seats end as seats,
        case when previous.mrr > 0 then previous.mrr else monthly.mrr end as mrr
    from monthly
    left join monthly as previous
        on monthly.account_id = previous.account_id
        and cast(previous.month as date)
            = cast({{ dbt.dateadd('month', -1, 'monthly.month') }} as date)
    where monthly.mrr > 0 or coalesce(previous.mrr, 0) > 0

),

customer_days as (

    select
        customer_months.account_id,
        dates.date,
        customer_months.segment,
        customer_months.seats,
        customer_months.mrr
    from customer_months
    inner join dates on cast(dates.month as date) = customer_months.month
    inner join accounts on customer_months.account_id = accounts.account_id
    where accounts.customer_since is null or dates.date >= accounts.customer_since

),

account_ranges as (

    select account_id, min(date) as first_date, max(date) as last_date
    from customer_days
    group by account_id

),

final as (

    select
        account_ranges.account_id,
        dates.date,
        customer_days.account_id is not null as is_customer,
        customer_days.segment,
        customer_days.seats,
        customer_days.mrr,
        row_number() over (partition by account_ranges.account_id order by dates.date)
            as days_observed
    from account_ranges
    inner join dates
        on dates.date between account_ranges.first_date and account_ranges.last_date
    left join customer_days
        on account_ranges.account_id = customer_days.account_id
        and dates.date = customer_days.date

)

select * from final
