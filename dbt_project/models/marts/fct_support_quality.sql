{#- Grain: account_id, month. Support and survey quality per account per month, from the
    account's first month with a ticket, a rating or a survey answer to the as-of month, months
    without any included (zeros, null rates).

    - Tickets are counted in the month they were opened, by category (DESIGN.md §6).
    - first_reply_hours: median hours to the first agent reply of the tickets opened that month.
    - resolution_hours: median hours from opening to solve of the tickets solved that month.
      Medians, because a few tickets left open for weeks would otherwise set the figure.
    - CSAT = good ÷ (good + bad) of the ratings given that month (DESIGN.md §5), a fraction.
    - NPS = % promoters (9-10) − % detractors (0-6) of the NPS answers that month on the 0..10
      scale, −100..100 (DESIGN.md §5).
    - CES = mean answer of the CES survey that month, on the scale the survey states (the
      product's: 1..7, higher means less effort).
    Only records tied to an account count; unmatched organizations and workspaces are listed in
    int_identity__unmatched. Nothing after the as-of day (int_dates) counts, so a past as-of
    day (var as_of_date) reads the months as they stood then. -#}
with keys as (
    select * from {{ ref('int_identity__account_keys') }}
),

as_of as (
    select max(date) as last_date from {{ ref('int_dates') }}
),

tickets as (
    select
        keys.account_id,
        tickets.ticket_id,
        tickets.category,
        tickets.is_escalated,
        tickets.created_at,
        metrics.first_reply_minutes,
        metrics.full_resolution_minutes,
        metrics.solved_at
    from {{ ref('stg_zendesk__tickets') }} as tickets
    inner join keys
        on keys.source_system = 'zendesk'
        and keys.source_record_id = tickets.organization_id
    left join {{ ref('stg_zendesk__ticket_metrics') }} as metrics
        on metrics.ticket_id = tickets.ticket_id
    where cast(tickets.created_at as date) <= (select last_date from as_of)
),

opened as (
    select
        account_id,
        cast({{ dbt.date_trunc('month', 'created_at') }} as date) as month,
        count(*) as tickets_total,
        sum(case when category = 'how_to' then 1 else 0 end) as tickets_how_to,
        sum(case when category = 'bug' then 1 else 0 end) as tickets_bug,
        sum(case when category = 'feature_request' then 1 else 0 end) as tickets_feature_request,
        sum(case when category = 'advisory' then 1 else 0 end) as tickets_advisory,
        sum(case when is_escalated then 1 else 0 end) as tickets_escalated,
        percentile_cont(0.5) within group (order by first_reply_minutes / 60.0)
            as first_reply_hours
    from tickets
    group by 1, 2
),

solved as (
    select
        account_id,
        cast({{ dbt.date_trunc('month', 'solved_at') }} as date) as month,
        count(*) as tickets_solved,
        percentile_cont(0.5) within group (order by full_resolution_minutes / 60.0)
            as resolution_hours
    from tickets
    where cast(solved_at as date) <= (select last_date from as_of)
    group by 1, 2
),

ratings as (
    select
        keys.account_id,
        cast({{ dbt.date_trunc('month', 'ratings.created_at') }} as date) as month,
        sum(case when ratings.score = 'good' then 1 else 0 end) as csat_good,
        sum(case when ratings.score = 'bad' then 1 else 0 end) as csat_bad
    from {{ ref('stg_zendesk__satisfaction_ratings') }} as ratings
    inner join keys
        on keys.source_system = 'zendesk'
        and keys.source_record_id = ratings.organization_id
    where cast(ratings.created_at as date) <= (select last_date from as_of)
    group by 1, 2
),

surveys as (
    select
        keys.account_id,
        cast({{ dbt.date_trunc('month', 'responses.submitted_at') }} as date) as month,
        sum(case when responses.survey_type = 'nps' then 1 else 0 end) as nps_responses,
        sum(case when responses.survey_type = 'nps' and responses.score >= 9 then 1 else 0 end)
            as nps_promoters,
        sum(case when responses.survey_type = 'nps' and responses.score <= 6 then 1 else 0 end)
            as nps_detractors,
        sum(case when responses.survey_type = 'ces' then 1 else 0 end) as ces_responses,
        avg(case when responses.survey_type = 'ces' then responses.score end) as ces_mean
    from {{ ref('stg_product__survey_responses') }} as responses
    inner join keys
        on keys.source_system = 'product'
        and keys.source_record_id = responses.workspace_id
    where cast(responses.submitted_at as date) <= (select last_date from as_of)
        and (
            responses.survey_type = 'ces'
            or (responses.survey_type = 'nps' and responses.scale_min = 0
                and responses.scale_max = 10)
        )
    group by 1, 2
),

activity_months as (
    select account_id, month from opened
    union all
    select account_id, month from solved
    union all
    select account_id, month from ratings
    union all
    select account_id, month from surveys
),

as_of_month as (
    select cast({{ dbt.date_trunc('month', 'last_date') }} as date) as month
    from as_of
),

calendar_months as (
    select cast({{ dbt.date_trunc('month', 'date') }} as date) as month
    from {{ ref('int_dates') }}
    union
    select month from activity_months
),

account_spans as (
    select account_id, min(month) as first_month
    from activity_months
    group by account_id
),

account_months as (
    select account_spans.account_id, calendar_months.month
    from account_spans
    cross join as_of_month
    inner join calendar_months
        on calendar_months.month >= account_spans.first_month
        and calendar_months.month <= as_of_month.month
)

select
    cast(account_months.account_id as {{ dbt.type_string() }}) as account_id,
    cast(account_months.month as date) as month,
    cast(coalesce(opened.tickets_total, 0) as integer) as tickets_total,
    cast(coalesce(opened.tickets_how_to, 0) as integer) as tickets_how_to,
    cast(coalesce(opened.tickets_bug, 0) as integer) as tickets_bug,
    cast(coalesce(opened.tickets_feature_request, 0) as integer) as tickets_feature_request,
    cast(coalesce(opened.tickets_advisory, 0) as integer) as tickets_advisory,
    cast(coalesce(opened.tickets_escalated, 0) as integer) as tickets_escalated,
    cast(coalesce(solved.tickets_solved, 0) as integer) as tickets_solved,
    cast(opened.first_reply_hours as {{ dbt.type_numeric() }}) as first_reply_hours,
    cast(solved.resolution_hours as {{ dbt.type_numeric() }}) as resolution_hours,
    cast(coalesce(ratings.csat_good, 0) as integer) as csat_good,
    cast(coalesce(ratings.csat_bad, 0) as integer) as csat_bad,
    cast(
        case when ratings.csat_good + ratings.csat_bad > 0
            then 1.0 * ratings.csat_good / (ratings.csat_good + ratings.csat_bad) end
        as {{ dbt.type_numeric() }}
    ) as csat,
    cast(coalesce(surveys.nps_responses, 0) as integer) as nps_responses,
    cast(
        case when surveys.nps_responses > 0
            then 100.0 * (surveys.nps_promoters - surveys.nps_detractors) / surveys.nps_responses
        end
        as {{ dbt.type_numeric() }}
    ) as nps,
    cast(coalesce(surveys.ces_responses, 0) as integer) as ces_responses,
    cast(surveys.ces_mean as {{ dbt.type_numeric() }}) as ces
from account_months
left join opened
    on opened.account_id = account_months.account_id and opened.month = account_months.month
left join solved
    on solved.account_id = account_months.account_id and solved.month = account_months.month
left join ratings
    on ratings.account_id = account_months.account_id and ratings.month = account_months.month
left join surveys
    on surveys.account_id = account_months.account_id and surveys.month = account_months.month
