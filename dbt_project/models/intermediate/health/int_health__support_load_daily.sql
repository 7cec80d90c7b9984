{#- Grain: account_id, date. Support load, 0..100, over the last 90 days: 100 minus
    - up to `support_volume_points` for tickets per seat above the segment norm (full penalty at
      twice the norm),
    - up to `support_friction_points` for the share of tickets that are bugs or escalated,
    - up to `support_csat_points` for the share of bad satisfaction ratings (when rated).
    No tickets is no friction (100). Missing for an account with no Zendesk organization. -#}
{%- set window_90 = 'partition by days.account_id order by days.date rows between 89 preceding and current row' %}
with days as (

    select * from {{ ref('int_health__account_days') }}

),

organizations as (

    select source_record_id as organization_id, account_id
    from {{ ref('int_identity__account_keys') }}
    where source_system = 'zendesk'

),

tickets as (

    select
        organizations.account_id,
        cast(tickets.created_at as date) as date,
        count(*) as tickets,
        sum(case when tickets.category = 'bug' or tickets.is_escalated then 1 else 0 end)
            as friction_tickets
    from {{ ref('stg_zendesk__tickets') }} as tickets
    inner join organizations on tickets.organization_id = organizations.organization_id
    group by organizations.account_id, cast(tickets.created_at as date)

),

ratings as (

    select
        organizations.account_id,
        cast(ratings.created_at as date) as date,
        sum(case when ratings.score = 'good' then 1 else 0 end) as good_ratings,
        sum(case when ratings.score = 'bad' then 1 else 0 end) as bad_ratings
    from {{ ref('stg_zendesk__satisfaction_ratings') }} as ratings
    inner join organizations on ratings.organization_id = organizations.organization_id
    group by organizations.account_id, cast(ratings.created_at as date)

),

norms as (

    select * from {{ ref('health_norms') }}

),

windows as (

    select
        days.account_id,
        days.date,
        days.is_customer,
        days.segment,
        days.seats,
        sum(coalesce(tickets.tickets, 0)) over ({{ window_90 }}) as tickets_90d,
        sum(coalesce(tickets.friction_tickets, 0)) over ({{ window_90 }}) as friction_tickets_90d,
        sum(coalesce(ratings.good_ratings, 0)) over ({{ window_90 }}) as good_ratings_90d,
        sum(coalesce(ratings.bad_ratings, 0)) over ({{ window_90 }}) as bad_ratings_90d
    from days
    left join tickets on days.account_id = tickets.account_id and days.date = tickets.date
    left join ratings on days.account_id = ratings.account_id and days.date = ratings.date

),

measured as (

    select
        windows.account_id,
        windows.date,
        windows.tickets_90d,
        windows.friction_tickets_90d,
        windows.good_ratings_90d,
        windows.bad_ratings_90d,
        windows.account_id in (select account_id from organizations) as has_organization,
        cast(windows.tickets_90d as {{ dbt.type_numeric() }}) / nullif(windows.seats, 0)
            / norms.tickets_per_seat_90d as ticket_volume_vs_norm,
        cast(windows.friction_tickets_90d as {{ dbt.type_numeric() }})
            / nullif(windows.tickets_90d, 0) as friction_share,
        cast(windows.bad_ratings_90d as {{ dbt.type_numeric() }})
            / nullif(windows.good_ratings_90d + windows.bad_ratings_90d, 0) as bad_rating_share,
        norms.support_volume_points,
        norms.support_friction_points,
        norms.support_csat_points
    from windows
    left join norms on windows.segment = norms.segment
    where windows.is_customer

),

final as (

    select
        account_id,
        date,
        tickets_90d,
        friction_tickets_90d,
        good_ratings_90d,
        bad_ratings_90d,
        case when has_organization then
            100
            - support_volume_points
                * greatest(0.0, least(1.0, coalesce(ticket_volume_vs_norm, 0) - 1))
            - support_friction_points * coalesce(friction_share, 0)
            - support_csat_points * coalesce(bad_rating_share, 0)
        end as support_load_score
    from measured

)

select * from final
