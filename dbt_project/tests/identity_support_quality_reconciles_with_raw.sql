{#- fct_support_quality counts every raw ticket and every good/bad rating of the Zendesk
    organizations tied to an account, up to the as-of day, once: totals per account equal the
    raw layer's. Fails with each account whose totals differ. -#}
with as_of as (
    select max(date) as last_date from {{ ref('int_dates') }}
),

organization_accounts as (
    select source_record_id as organization_id, account_id
    from {{ ref('int_identity__account_keys') }}
    where source_system = 'zendesk'
),

raw_tickets as (
    select organization_accounts.account_id, count(*) as tickets
    from {{ source('zendesk', 'tickets') }} as tickets
    inner join organization_accounts
        on organization_accounts.organization_id
            = cast(tickets.organization_id as {{ dbt.type_string() }})
    where cast({{ to_utc_timestamp('tickets.created_at') }} as date) <= (select last_date from as_of)
    group by organization_accounts.account_id
),

raw_ratings as (
    select
        organization_accounts.account_id,
        sum(case when ratings.score = 'good' then 1 else 0 end) as good,
        sum(case when ratings.score = 'bad' then 1 else 0 end) as bad
    from {{ source('zendesk', 'satisfaction_ratings') }} as ratings
    inner join organization_accounts
        on organization_accounts.organization_id
            = cast(ratings.organization_id as {{ dbt.type_string() }})
    where cast({{ to_utc_timestamp('ratings.created_at') }} as date) <= (select last_date from as_of)
    group by organization_accounts.account_id
),

mart as (
    select
        account_id,
        sum(tickets_total) as tickets,
        sum(csat_good) as good,
        sum(csat_bad) as bad
    from {{ ref('fct_support_quality') }}
    group by account_id
)

select
    coalesce(raw_tickets.account_id, raw_ratings.account_id, mart.account_id) as account_id,
    raw_tickets.tickets as raw_tickets,
    mart.tickets as mart_tickets,
    raw_ratings.good as raw_good,
    mart.good as mart_good,
    raw_ratings.bad as raw_bad,
    mart.bad as mart_bad
from raw_tickets
full outer join raw_ratings on raw_ratings.account_id = raw_tickets.account_id
full outer join mart
    on mart.account_id = coalesce(raw_tickets.account_id, raw_ratings.account_id)
where coalesce(raw_tickets.tickets, 0) <> coalesce(mart.tickets, 0)
    or coalesce(raw_ratings.good, 0) <> coalesce(mart.good, 0)
    or coalesce(raw_ratings.bad, 0) <> coalesce(mart.bad, 0)
