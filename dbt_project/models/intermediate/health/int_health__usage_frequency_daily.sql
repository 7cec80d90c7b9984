{#- Grain: account_id, date. Usage frequency, 0..100: half for the share of the last 30 days
    with any active user, half for daily active users per contracted seat, each against its
    segment norm (seed health_norms) and capped at the norm. A new account is measured over
    the days it has been a customer. Missing (null) for an account with no product workspace. -#}
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
        workspaces.account_id is not null as has_workspace,
        cast(rolling.active_days_30d as {{ dbt.type_numeric() }})
            / case when days.days_observed < 30 then days.days_observed else 30 end
            as active_day_share,
        cast(rolling.active_user_days_30d as {{ dbt.type_numeric() }})
            / (case when days.days_observed < 30 then days.days_observed else 30 end
               * nullif(days.seats, 0)) as active_users_per_seat,
        norms.active_day_share as norm_active_day_share,
        norms.active_users_per_seat as norm_active_users_per_seat
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
        active_day_share,
        active_users_per_seat,
        case when has_workspace then
            50 * least(1.0, active_day_share / norm_active_day_share)
            + 50 * least(1.0, coalesce(active_users_per_seat, 0) / norm_active_users_per_seat)
        end as usage_frequency_score
    from measured

)

select * from final
