{#- Grain: account_id, date, signal_type — an expansion signal that held for a customer on a
    day (DESIGN.md §5 alert "expansion signal"), with its strength (the measure ÷ the rule's
    threshold: 1 is just at it), a sentence of evidence a CSM can paste into a CRM task, and
    the ARR it may add (seed expansion_rules says how each is estimated). -#}
{%- set as_text = dbt.type_string() -%}
with signals as (

    select * from {{ ref('int_expansion__signals_daily') }}

),

final as (

    select
        cast(account_id as {{ as_text }}) as account_id,
        date,
        cast(signal_type as {{ as_text }}) as signal_type,
        cast(strength as {{ dbt.type_numeric() }}) as strength,
        cast(case signal_type
            when 'seat_utilisation' then
                'peak of ' || cast(peak_active_users_30d as {{ as_text }})
                || ' daily active users on ' || cast(seats as {{ as_text }})
                || ' seats in the last 30 days ('
                || cast(cast(round(measure * 100) as integer) as {{ as_text }}) || '% used)'
            when 'usage_growth' then
                cast(active_user_days_30d as {{ as_text }})
                || ' active-user days in the last 30 days against '
                || cast(active_user_days_prior_30d as {{ as_text }}) || ' in the 30 before (+'
                || cast(cast(round(measure * 100) as integer) as {{ as_text }}) || '%)'
            when 'plan_limit_hits' then
                cast(plan_limit_hits_30d as {{ as_text }}) || ' events blocked by the '
                || coalesce(plan, 'current') || ' plan''s daily limit in the last 30 days'
            when 'premium_feature_interest' then
                cast(premium_feature_attempts_30d as {{ as_text }})
                || ' attempts to use features of a higher plan than '
                || coalesce(plan, 'the current one') || ' in the last 30 days'
        end as {{ as_text }}) as evidence,
        cast(estimated_value as {{ dbt.type_numeric() }}) as estimated_value
    from signals

)

select * from final
