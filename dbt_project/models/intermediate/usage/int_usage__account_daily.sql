{{ config(
    materialized='incremental',
    unique_key=['account_id', 'date'],
    incremental_strategy='delete+insert',
) }}
{#- Grain: account_id, date — one row per account per day with any product event. Incremental:
    a run re-aggregates the last var `usage_lookback_days` days it already holds (the feed
    re-delivers recent partitions with late events) and everything newer; older days are final.
    A full refresh rebuilds every day, e.g. after identity changes claim a new workspace. -#}
with events as (

    select * from {{ ref('int_usage__matched_events') }}
    {% if is_incremental() %}
    where event_date >= (
        select {{ incremental_first_day(var('usage_lookback_days')) }} from {{ this }}
    )
    {{ incremental_last_day_filter('event_date') }}
    {% endif %}

),

plan_features as (

    select features.feature, plans.plan
    from {{ ref('product_features') }} as features
    inner join {{ ref('product_plans') }} as first_plans on features.first_plan = first_plans.plan
    inner join {{ ref('product_plans') }} as plans on plans.plan_rank >= first_plans.plan_rank

),

classified as (

    select
        events.account_id,
        events.event_date,
        events.user_id,
        events.plan,
        events.event_type,
        events.feature,
        plan_features.feature is not null as is_plan_feature
    from events
    left join plan_features
        on events.feature = plan_features.feature and events.plan = plan_features.plan

),

final as (

    select
        account_id,
        cast(event_date as date) as date,
        max(plan) as plan,
        count(distinct user_id) as active_users,
        sum(case when event_type = 'feature_used' then 1 else 0 end) as events,
        count(distinct case when event_type = 'feature_used' then feature end)
            as distinct_features,
        count(distinct case when event_type = 'feature_used' and is_plan_feature then feature end)
            as key_features_used,
        sum(case when event_type = 'gated_feature_attempt' then 1 else 0 end)
            as premium_feature_attempts,
        sum(case when event_type = 'plan_limit_hit' then 1 else 0 end) as plan_limit_hits
    from classified
    group by account_id, event_date

)

select * from final
