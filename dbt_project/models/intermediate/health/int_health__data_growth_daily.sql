{#- Grain: account_id, date. Data growth, 0..100: active-user days in the last var
    `health_growth_window_days` days against as many days before, on a log scale centred on 50
    (flat): each doubling adds and each halving takes away the segment's
    `growth_points_per_doubling` (seed health_norms). Active-user days rather than raw events,
    because a few heavy API users would otherwise drown the signal of people leaving. The
    window is 60 days by default, not DESIGN.md's 30: on the simulated company 30 against 30
    did not separate churners at all (AUC 0.51) and 60 against 60 did (0.71); see
    DECISIONLOG.md "dbt: health model". Missing until an account has been a customer for both
    windows (an onboarding ramp is not growth) and for accounts with no product workspace. -#}
with days as (

    select * from {{ ref('int_health__account_days') }}

),

rolling as (

    select * from {{ ref('int_usage__account_rolling_daily') }}

),

workspaces as (

    select distinct account_id
    from {{ ref('int_identity__account_keys') }}
    where source_system = 'product'

),

norms as (

    select * from {{ ref('health_norms') }}

),

measured as (

    select
        days.account_id,
        days.date,
        workspaces.account_id is not null
            and days.days_observed >= 2 * {{ var('health_growth_window_days') }} as is_measurable,
        (rolling.active_user_days_growth_window + 1.0)
            / (rolling.active_user_days_prior_growth_window + 1.0)
            as usage_growth_ratio,
        norms.growth_points_per_doubling
    from days
    inner join rolling on days.account_id = rolling.account_id and days.date = rolling.date
    left join workspaces on days.account_id = workspaces.account_id
    left join norms on days.segment = norms.segment
    where days.is_customer

),

final as (

    select
        account_id,
        date,
        usage_growth_ratio,
        case when is_measurable then
            greatest(0.0, least(100.0,
                50 + growth_points_per_doubling * ln(usage_growth_ratio) / ln(2.0)))
        end as data_growth_score
    from measured

)

select * from final
