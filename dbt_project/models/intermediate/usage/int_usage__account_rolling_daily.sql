{#- Grain: account_id, date (every day of int_health__account_days). Usage over the 30 days
    ending on the day and the 30 before them, and over the var `health_growth_window_days`
    days ending on the day and as many before (data growth): the windows the health
    components and expansion signals read. days_observed says how many days of the account's customer
    history the windows could see, so a component can tell "no use" from "too new to know". -#}
{%- set window_30 = 'partition by days.account_id order by days.date rows between 29 preceding and current row' -%}
{%- set window_prior_30 = 'partition by days.account_id order by days.date rows between 59 preceding and 30 preceding' -%}
{%- set growth_days = var('health_growth_window_days') | int -%}
{%- set window_growth = 'partition by days.account_id order by days.date rows between ' ~ (growth_days - 1) ~ ' preceding and current row' -%}
{%- set window_prior_growth = 'partition by days.account_id order by days.date rows between ' ~ (2 * growth_days - 1) ~ ' preceding and ' ~ growth_days ~ ' preceding' %}
with days as (

    select account_id, date, days_observed from {{ ref('int_health__account_days') }}

),

usage as (

    select * from {{ ref('int_usage__account_daily') }}

),

plans as (

    select plan, plan_rank from {{ ref('product_plans') }}

),

final as (

    select
        days.account_id,
        days.date,
        days.days_observed,
        sum(case when usage.active_users > 0 then 1 else 0 end) over ({{ window_30 }})
            as active_days_30d,
        sum(coalesce(usage.active_users, 0)) over ({{ window_30 }}) as active_user_days_30d,
        sum(coalesce(usage.active_users, 0)) over ({{ window_prior_30 }})
            as active_user_days_prior_30d,
        sum(coalesce(usage.active_users, 0)) over ({{ window_growth }})
            as active_user_days_growth_window,
        sum(coalesce(usage.active_users, 0)) over ({{ window_prior_growth }})
            as active_user_days_prior_growth_window,
        max(coalesce(usage.active_users, 0)) over ({{ window_30 }}) as peak_active_users_30d,
        sum(coalesce(usage.events, 0)) over ({{ window_30 }}) as events_30d,
        sum(coalesce(usage.events, 0)) over ({{ window_prior_30 }}) as events_prior_30d,
        sum(coalesce(usage.plan_limit_hits, 0)) over ({{ window_30 }}) as plan_limit_hits_30d,
        sum(coalesce(usage.premium_feature_attempts, 0)) over ({{ window_30 }})
            as premium_feature_attempts_30d,
        max(plans.plan_rank) over ({{ window_30 }}) as plan_rank_30d
    from days
    left join usage on days.account_id = usage.account_id and days.date = usage.date
    left join plans on usage.plan = plans.plan

)

select * from final
