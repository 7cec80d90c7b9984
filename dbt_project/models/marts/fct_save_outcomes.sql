{#- Grain: account_id, flagged_on. Every day an account was flagged at risk by the alert rules
    of DESIGN.md §5 that mark risk — health_crossed_below (band critical, i.e. under the
    segment's intervention threshold, after a day at or above it) and renewal_at_risk (the
    first not-healthy day within var save_renewal_window_days of a renewal) — with the
    renewal it is about (the first term end on or after the flag, int_lifecycle__renewals), the
    play for the health component that drove it (var save_plays) and its outcome:
    churned (MRR went to zero between the flag month and the renewal month), saved (the renewal
    is past and the account still pays in the renewal month), open (neither yet). When both
    rules fire on one day the row keeps health_crossed_below. mrr_at_risk is the MRR at the
    start of the flag month (the flag month's when it only started paying then); mrr_saved the
    MRR of the renewal month when saved. Save rate (DESIGN.md §5) = saved ÷ (saved + churned). -#}
{%- set plays = var('save_plays') %}
with as_of as (

    select
        as_of_date,
        cast({{ dbt.date_trunc('month', 'as_of_date') }} as date) as as_of_month
    from {{ ref('int_lifecycle__as_of') }}

),

health as (

    select
        account_id,
        date,
        health_band,
        main_driver,
        lag(health_band) over (partition by account_id order by date) as previous_band
    from {{ ref('fct_account_health_daily') }}

),

renewals as (

    select account_id, renewal_on from {{ ref('int_lifecycle__renewals') }}

),

crossed_below as (

    select account_id, date as flagged_on, 'health_crossed_below' as rule, 1 as rule_rank
    from health
    where health_band = 'critical'
        and previous_band is not null
        and previous_band <> 'critical'

),

renewal_at_risk as (

    select
        health.account_id,
        min(health.date) as flagged_on,
        'renewal_at_risk' as rule,
        2 as rule_rank
    from health
    inner join renewals
        on renewals.account_id = health.account_id
        and renewals.renewal_on >= health.date
        and renewals.renewal_on <= cast({{ dbt.dateadd('day', var('save_renewal_window_days'),
                                                       'health.date') }} as date)
    where health.health_band <> 'healthy'
    group by health.account_id, renewals.renewal_on

),

flags as (

    select account_id, flagged_on, rule, rule_rank from crossed_below
    union all
    select account_id, flagged_on, rule, rule_rank from renewal_at_risk

),

first_rule_per_day as (

    select
        account_id,
        flagged_on,
        rule,
        row_number() over (partition by account_id, flagged_on order by rule_rank) as rule_order
    from flags

),

flagged as (

    select
        first_rule_per_day.account_id,
        first_rule_per_day.flagged_on,
        first_rule_per_day.rule,
        health.main_driver,
        cast({{ dbt.date_trunc('month', 'first_rule_per_day.flagged_on') }} as date) as flag_month,
        (
            select min(renewals.renewal_on)
            from renewals
            where renewals.account_id = first_rule_per_day.account_id
                and renewals.renewal_on >= first_rule_per_day.flagged_on
        ) as renewal_date
    from first_rule_per_day
    inner join health
        on health.account_id = first_rule_per_day.account_id
        and health.date = first_rule_per_day.flagged_on
    where first_rule_per_day.rule_order = 1

),

monthly as (

    select account_id, month, mrr from {{ ref('int_mrr__account_monthly') }}

),

churns as (

    select account_id, month as churn_month
    from {{ ref('fct_mrr_movements') }}
    where movement_type = 'churn'

),

with_money as (

    select
        flagged.*,
        cast({{ dbt.date_trunc('month', 'flagged.renewal_date') }} as date) as renewal_month,
        coalesce(nullif(before_flag.mrr, 0), at_flag.mrr, 0) as mrr_at_risk,
        at_renewal.mrr as renewal_month_mrr,
        (
            select min(churns.churn_month)
            from churns
            cross join as_of
            where churns.account_id = flagged.account_id
                and churns.churn_month >= flagged.flag_month
                and churns.churn_month <= as_of.as_of_month
        ) as churn_month
    from flagged
    left join monthly as before_flag
        on before_flag.account_id = flagged.account_id
        and before_flag.month = cast({{ dbt.dateadd('month', -1, 'flagged.flag_month') }} as date)
    left join monthly as at_flag
        on at_flag.account_id = flagged.account_id
        and at_flag.month = flagged.flag_month
    left join monthly as at_renewal
        on at_renewal.account_id = flagged.account_id
        and at_renewal.month = cast({{ dbt.date_trunc('month', 'flagged.renewal_date') }} as date)

),

judged as (

    select
        with_money.*,
        case
            when churn_month is not null
                and (renewal_month is null or churn_month <= renewal_month) then 'churned'
            when renewal_date <= as_of.as_of_date and renewal_month_mrr > 0 then 'saved'
            else 'open'
        end as outcome
    from with_money
    cross join as_of

)

select
    cast(judged.account_id as {{ dbt.type_string() }}) as account_id,
    judged.flagged_on,
    cast(accounts.csm_id as {{ dbt.type_string() }}) as csm_id,
    cast(judged.rule as {{ dbt.type_string() }}) as rule,
    cast(case judged.main_driver
        {%- for driver, play in plays.items() if driver != 'default' %}
        when '{{ driver }}' then '{{ play }}'
        {%- endfor %}
        else '{{ plays["default"] }}'
    end as {{ dbt.type_string() }}) as play,
    cast(judged.main_driver as {{ dbt.type_string() }}) as main_driver,
    judged.renewal_date,
    cast(judged.outcome as {{ dbt.type_string() }}) as outcome,
    cast(case
        when judged.outcome = 'saved' then judged.renewal_date
        when judged.outcome = 'churned'
            then case when judged.churn_month > judged.flagged_on then judged.churn_month
                      else judged.flagged_on end
    end as date) as resolved_on,
    cast(judged.mrr_at_risk as {{ dbt.type_numeric() }}) as mrr_at_risk,
    cast(case when judged.outcome = 'saved' then judged.renewal_month_mrr else 0 end
        as {{ dbt.type_numeric() }}) as mrr_saved
from judged
left join {{ ref('dim_accounts') }} as accounts
    on accounts.account_id = judged.account_id
