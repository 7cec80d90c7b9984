{#- Grain: account_id — every account that has been a customer. An account is activated on
    the first day it meets its segment's rule (seed activation_rules: at least
    min_active_users active users on min_active_days distinct days, and the activation
    feature of seed product_features used), counted from the day it became a customer.
    Not activated within deadline_days is a risk in itself (DESIGN.md §5): is_overdue.
    Accounts that became customers before the product data begins cannot be judged and say so
    in activation_status ('before_history'). -#}
with days as (

    select * from {{ ref('int_health__account_days') }}

),

accounts as (

    select account_id, customer_since from {{ ref('int_accounts') }}

),

history as (

    select min(date) as first_date, max(date) as last_date from {{ ref('int_dates') }}

),

starts as (

    select
        days.account_id,
        days.segment,
        coalesce(accounts.customer_since, days.date) as started_on
    from days
    left join accounts on days.account_id = accounts.account_id
    where days.days_observed = 1

),

rules as (

    select * from {{ ref('activation_rules') }}

),

qualifying_days as (

    select
        usage.account_id,
        usage.date,
        row_number() over (partition by usage.account_id order by usage.date) as day_number,
        rules.min_active_days
    from {{ ref('int_usage__account_daily') }} as usage
    inner join starts on usage.account_id = starts.account_id
    inner join rules on starts.segment = rules.segment
    where usage.date >= starts.started_on and usage.active_users >= rules.min_active_users

),

enough_days as (

    select account_id, date as reached_on
    from qualifying_days
    where day_number = min_active_days

),

activation_feature_used as (

    select feature_days.account_id, min(feature_days.date) as first_used_on
    from {{ ref('int_usage__account_feature_daily') }} as feature_days
    inner join {{ ref('product_features') }} as features
        on feature_days.feature = features.feature
    inner join starts on feature_days.account_id = starts.account_id
    where features.is_activation_feature
        and feature_days.feature_events > 0
        and feature_days.date >= starts.started_on
    group by feature_days.account_id

),

activated as (

    select
        starts.account_id,
        starts.segment,
        starts.started_on,
        rules.deadline_days,
        case when enough_days.reached_on is not null
                  and activation_feature_used.first_used_on is not null then
            case when enough_days.reached_on > activation_feature_used.first_used_on
                 then enough_days.reached_on else activation_feature_used.first_used_on end
        end as activated_on
    from starts
    left join rules on starts.segment = rules.segment
    left join enough_days on starts.account_id = enough_days.account_id
    left join activation_feature_used on starts.account_id = activation_feature_used.account_id

),

final as (

    select
        activated.account_id,
        activated.segment,
        activated.started_on,
        case when activated.started_on >= history.first_date then activated.activated_on end
            as activated_on,
        case when activated.started_on >= history.first_date then
            {{ dbt.datediff('activated.started_on', 'activated.activated_on', 'day') }}
        end as days_to_activation,
        activated.deadline_days,
        case
            when activated.started_on < history.first_date then 'before_history'
            when activated.activated_on is not null
                 and {{ dbt.datediff('activated.started_on', 'activated.activated_on', 'day') }}
                     <= activated.deadline_days then 'activated'
            when activated.activated_on is not null then 'activated_late'
            when {{ dbt.datediff('activated.started_on', 'history.last_date', 'day') }}
                 > activated.deadline_days then 'overdue'
            else 'in_progress'
        end as activation_status,
        case
            when activated.started_on < history.first_date then false
            when activated.activated_on is not null
                then {{ dbt.datediff('activated.started_on', 'activated.activated_on', 'day') }}
                     > activated.deadline_days
            else {{ dbt.datediff('activated.started_on', 'history.last_date', 'day') }}
                 > activated.deadline_days
        end as is_overdue
    from activated
    cross join history

)

select * from final
