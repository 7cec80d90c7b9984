{#- Grain: account_id, date. NPS / sentiment, 0..100, from the NPS answers (0..10) of the
    account's people in the last `nps_lookback_days`: ten times the mean answer of the latest
    round (answers within 30 days of the newest one — a campaign reaches several contacts),
    plus `nps_trend_points` per answer point it rose against the answers before that round.
    Missing when nobody at the account answered in the lookback. -#}
with days as (

    select account_id, date, segment from {{ ref('int_health__account_days') }}
    where is_customer

),

workspaces as (

    select source_record_id as workspace_id, account_id
    from {{ ref('int_identity__account_keys') }}
    where source_system = 'product'

),

answers as (

    select workspaces.account_id, responses.submitted_on, responses.score
    from {{ ref('stg_product__survey_responses') }} as responses
    inner join workspaces on responses.workspace_id = workspaces.workspace_id
    where responses.survey_type = 'nps'

),

norms as (

    select * from {{ ref('health_norms') }}

),

answers_in_lookback as (

    select
        days.account_id,
        days.date,
        norms.nps_trend_points,
        answers.submitted_on,
        answers.score,
        max(answers.submitted_on) over (partition by days.account_id, days.date) as latest_on
    from days
    inner join norms on days.segment = norms.segment
    inner join answers
        on days.account_id = answers.account_id
        and answers.submitted_on <= days.date
        and answers.submitted_on > {{ dbt.dateadd('day', '-norms.nps_lookback_days', 'days.date') }}

),

rounds as (

    select
        account_id,
        date,
        max(nps_trend_points) as nps_trend_points,
        avg(case when submitted_on > {{ dbt.dateadd('day', -30, 'latest_on') }}
                 then cast(score as {{ dbt.type_numeric() }}) end) as latest_nps_answer,
        avg(case when submitted_on <= {{ dbt.dateadd('day', -30, 'latest_on') }}
                 then cast(score as {{ dbt.type_numeric() }}) end) as earlier_nps_answer
    from answers_in_lookback
    group by account_id, date

),

final as (

    select
        days.account_id,
        days.date,
        rounds.latest_nps_answer,
        rounds.earlier_nps_answer,
        -- greatest/least skip nulls on both engines: without the case a day with no answer
        -- would score 100
        case when rounds.latest_nps_answer is not null then
            greatest(0.0, least(100.0,
                10 * rounds.latest_nps_answer
                + rounds.nps_trend_points
                    * coalesce(rounds.latest_nps_answer - rounds.earlier_nps_answer, 0)
            ))
        end as nps_score
    from days
    left join rounds on days.account_id = rounds.account_id and days.date = rounds.date

)

select * from final
