{#- Grain: account_id, date. Feature depth, 0..100: the share of the plan's features (seed
    product_features, by the plan's rank in product_plans) used at least once in the last 30
    days. The plan is the highest one the account's events carried in those days. Missing for an
    account with no product workspace or no event in 30 days (no plan seen: usage frequency
    already scores the silence). -#}
with days as (

    select account_id, date, is_customer from {{ ref('int_health__account_days') }}

),

rolling as (

    select account_id, date, plan_rank_30d from {{ ref('int_usage__account_rolling_daily') }}

),

features as (

    select features.feature, plans.plan_rank as first_plan_rank
    from {{ ref('product_features') }} as features
    inner join {{ ref('product_plans') }} as plans on features.first_plan = plans.plan

),

feature_days as (

    select * from {{ ref('int_usage__account_feature_daily') }}

),

feature_windows as (

    select
        days.account_id,
        days.date,
        days.is_customer,
        features.feature,
        features.first_plan_rank,
        sum(coalesce(feature_days.feature_events, 0)) over (
            partition by days.account_id, features.feature
            order by days.date rows between 29 preceding and current row
        ) as feature_events_30d
    from days
    cross join features
    left join feature_days
        on days.account_id = feature_days.account_id
        and days.date = feature_days.date
        and features.feature = feature_days.feature

),

final as (

    select
        feature_windows.account_id,
        feature_windows.date,
        sum(case when feature_windows.first_plan_rank <= rolling.plan_rank_30d
                 and feature_windows.feature_events_30d > 0 then 1 else 0 end)
            as plan_features_used_30d,
        sum(case when feature_windows.first_plan_rank <= rolling.plan_rank_30d then 1 else 0 end)
            as plan_features,
        100.0 * sum(case when feature_windows.first_plan_rank <= rolling.plan_rank_30d
                         and feature_windows.feature_events_30d > 0 then 1 else 0 end)
            / nullif(sum(case when feature_windows.first_plan_rank <= rolling.plan_rank_30d
                              then 1 else 0 end), 0) as feature_depth_score
    from feature_windows
    inner join rolling
        on feature_windows.account_id = rolling.account_id
        and feature_windows.date = rolling.date
    where feature_windows.is_customer
    group by feature_windows.account_id, feature_windows.date

)

select * from final
