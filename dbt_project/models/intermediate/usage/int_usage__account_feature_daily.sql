{{ config(
    materialized='incremental',
    unique_key=['account_id', 'date', 'feature'],
    incremental_strategy='delete+insert',
) }}
{#- Grain: account_id, date, feature — what an account did with one feature on one day.
    Feature depth ("share of the plan's features used in 30 days") and activation ("the key
    feature used") need features per day, which the account-day rollup cannot give back.
    Incremental with the same lookback as int_usage__account_daily. -#}
with events as (

    select * from {{ ref('int_usage__matched_events') }}
    {% if is_incremental() %}
    where event_date >= (
        select {{ incremental_first_day(var('usage_lookback_days')) }} from {{ this }}
    )
    {{ incremental_last_day_filter('event_date') }}
    {% endif %}

),

final as (

    select
        account_id,
        cast(event_date as date) as date,
        feature,
        sum(case when event_type = 'feature_used' then 1 else 0 end) as feature_events,
        sum(case when event_type = 'gated_feature_attempt' then 1 else 0 end) as gated_attempts,
        sum(case when event_type = 'plan_limit_hit' then 1 else 0 end) as limit_hits
    from events
    group by account_id, event_date, feature

)

select * from final
