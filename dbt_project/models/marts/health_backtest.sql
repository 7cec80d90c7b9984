{#- Grain: month, health_band. For each month, the accounts that were customers on its first
    day, by the health band they had that day, against what happened in the 90 days after:
    churn (a `churn` movement — MRR to 0 — at the end of that month or either of the next two)
    and contraction (a `contraction` movement then, without churn). lift = the band's churn
    rate ÷ the month's overall churn rate. auc = the probability that a customer who stayed
    had a higher score that day than one who churned (ties count half): the Mann–Whitney
    statistic from average ranks, the same on every row of the month. A month whose 90 days
    have not all passed says so in outcome_window_complete. -#}
with month_starts as (

    select date as month
    from {{ ref('int_dates') }}
    where date = cast({{ dbt.date_trunc('month', 'date') }} as date)

),

as_of as (

    select max(date) as last_date from {{ ref('int_dates') }}

),

scores as (

    select health.account_id, month_starts.month, health.health_score, health.health_band
    from {{ ref('fct_account_health_daily') }} as health
    inner join month_starts on health.date = month_starts.month
    where health.health_score is not null

),

movements as (

    select account_id, cast(month as date) as month, movement_type
    from {{ ref('fct_mrr_movements') }}
    where movement_type in ('churn', 'contraction')

),

outcomes as (

    select
        scores.account_id,
        scores.month,
        scores.health_score,
        scores.health_band,
        max(case when movements.movement_type = 'churn' then 1 else 0 end) as churned,
        max(case when movements.movement_type = 'contraction' then 1 else 0 end) as contracted
    from scores
    left join movements
        on scores.account_id = movements.account_id
        and movements.month >= scores.month
        and movements.month <= cast({{ dbt.dateadd('month', 2, 'scores.month') }} as date)
    group by scores.account_id, scores.month, scores.health_score, scores.health_band

),

ranked as (

    select
        *,
        rank() over (partition by month order by health_score)
            + (count(*) over (partition by month, health_score) - 1) / 2.0 as score_rank
    from outcomes

),

monthly as (

    select
        month,
        count(*) as accounts,
        sum(churned) as churned,
        sum(1 - churned) as stayed,
        sum(case when churned = 0 then score_rank else 0 end) as stayed_rank_sum
    from ranked
    group by month

),

monthly_auc as (

    select
        month,
        accounts,
        cast(churned as {{ dbt.type_numeric() }}) / accounts as churn_rate,
        case when churned > 0 and stayed > 0 then
            (stayed_rank_sum - stayed * (stayed + 1) / 2.0) / (churned * stayed)
        end as auc
    from monthly

),

bands as (

    select
        month,
        health_band,
        count(*) as accounts,
        sum(churned) as churned_90d,
        sum(case when churned = 0 then contracted else 0 end) as contracted_90d
    from outcomes
    group by month, health_band

),

final as (

    select
        bands.month,
        cast(bands.health_band as {{ dbt.type_string() }}) as health_band,
        cast(bands.accounts as integer) as accounts,
        cast(bands.churned_90d as integer) as churned_90d,
        cast(cast(bands.churned_90d as {{ dbt.type_numeric() }}) / bands.accounts
             as {{ dbt.type_numeric() }}) as churn_rate_90d,
        cast(bands.contracted_90d as integer) as contracted_90d,
        cast(cast(bands.contracted_90d as {{ dbt.type_numeric() }}) / bands.accounts
             as {{ dbt.type_numeric() }}) as contraction_rate_90d,
        cast(cast(bands.churned_90d as {{ dbt.type_numeric() }}) / bands.accounts
             / nullif(monthly_auc.churn_rate, 0) as {{ dbt.type_numeric() }}) as lift,
        cast(monthly_auc.auc as {{ dbt.type_numeric() }}) as auc,
        cast({{ dbt.dateadd('day', 90, 'bands.month') }} as date)
            <= (select last_date from as_of) as outcome_window_complete
    from bands
    inner join monthly_auc on bands.month = monthly_auc.month

)

select * from final
