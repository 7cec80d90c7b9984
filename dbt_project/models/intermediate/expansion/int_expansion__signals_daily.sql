{#- Grain: account_id, date, signal_type — a signal that fired for a customer on a day, with
    the measure that fired it, the threshold (seed expansion_rules) and the money it may be
    worth (ARR uplift, estimated as each rule's description in the seed says). Signals:
    seat_utilisation, usage_growth, plan_limit_hits, premium_feature_interest. -#}
with days as (

    select account_id, date, seats, mrr, days_observed
    from {{ ref('int_health__account_days') }}
    where is_customer

),

rolling as (

    select * from {{ ref('int_usage__account_rolling_daily') }}

),

rules as (

    select signal_type, threshold, value_share from {{ ref('expansion_rules') }}

),

plans as (

    select plan, plan_rank, list_price_per_seat_monthly from {{ ref('product_plans') }}

),

measures as (

    select
        days.account_id,
        days.date,
        days.seats,
        days.mrr,
        rolling.peak_active_users_30d,
        rolling.active_user_days_30d,
        rolling.active_user_days_prior_30d,
        rolling.plan_limit_hits_30d,
        rolling.premium_feature_attempts_30d,
        current_plan.plan,
        next_plan.plan as next_plan,
        cast(next_plan.list_price_per_seat_monthly as {{ dbt.type_numeric() }})
            / current_plan.list_price_per_seat_monthly - 1 as upgrade_uplift,
        cast(rolling.peak_active_users_30d as {{ dbt.type_numeric() }})
            / nullif(days.seats, 0) as seat_utilisation,
        case when days.days_observed >= 60 and rolling.active_user_days_prior_30d > 0 then
            cast(rolling.active_user_days_30d as {{ dbt.type_numeric() }})
            / rolling.active_user_days_prior_30d - 1
        end as usage_growth
    from days
    inner join rolling on days.account_id = rolling.account_id and days.date = rolling.date
    left join plans as current_plan on rolling.plan_rank_30d = current_plan.plan_rank
    left join plans as next_plan on next_plan.plan_rank = rolling.plan_rank_30d + 1

),

candidates as (

    select
        measures.*,
        rules.signal_type,
        rules.threshold,
        rules.value_share,
        case rules.signal_type
            when 'seat_utilisation' then measures.seat_utilisation
            when 'usage_growth' then measures.usage_growth
            when 'plan_limit_hits' then measures.plan_limit_hits_30d
            when 'premium_feature_interest' then measures.premium_feature_attempts_30d
        end as measure
    from measures
    cross join rules

),

final as (

    select
        *,
        cast(measure as {{ dbt.type_numeric() }}) / threshold as strength,
        12 * case signal_type
            when 'seat_utilisation' then greatest(mrr / nullif(seats, 0), mrr * value_share)
            when 'usage_growth' then mrr * least(measure, value_share)
            else mrr * upgrade_uplift * value_share
        end as estimated_value
    from candidates
    where measure >= threshold

)

select * from final
