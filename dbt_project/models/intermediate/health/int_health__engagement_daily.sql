{#- Grain: account_id, date. Engagement, 0..100, from the days since the account's decision
    maker or champion last engaged: 100 up to `engagement_grace_days`, falling linearly to 0 at
    `engagement_zero_days` (seed health_norms). No decision maker or champion at the account
    that day (never named, or removed) scores 0: the relationship has no anchor.

    The CRM keeps only each contact's latest engagement, not its history. On a day before a key
    contact's latest engagement the days since the previous one are unknown, so the component
    is missing then rather than guessed (guessing either way would let later knowledge leak
    into the past, which the backtest must not see). A key contact who never engaged counts
    from the day they were added. -#}
with days as (

    select account_id, date, segment from {{ ref('int_health__account_days') }}
    where is_customer

),

key_contacts as (

    select
        account_id,
        cast(created_at as date) as created_on,
        cast(last_engaged_at as date) as last_engaged_on,
        cast(removed_at as date) as removed_on
    from {{ ref('int_contacts') }}
    where role in ('decision_maker', 'champion')

),

present as (

    select
        days.account_id,
        days.date,
        count(key_contacts.account_id) as key_contacts,
        max(case when key_contacts.last_engaged_on > days.date then 1 else 0 end)
            as engaged_after_day,
        max(coalesce(key_contacts.last_engaged_on, key_contacts.created_on)) as last_engaged_on
    from days
    left join key_contacts
        on days.account_id = key_contacts.account_id
        and key_contacts.created_on <= days.date
        and (key_contacts.removed_on is null or key_contacts.removed_on > days.date)
    group by days.account_id, days.date

),

norms as (

    select * from {{ ref('health_norms') }}

),

final as (

    select
        days.account_id,
        days.date,
        present.key_contacts,
        case when present.key_contacts > 0 and present.engaged_after_day = 0 then
            {{ dbt.datediff('present.last_engaged_on', 'days.date', 'day') }}
        end as days_since_key_contact_engaged,
        case
            when present.key_contacts = 0 then 0.0
            when present.engaged_after_day = 1 then null
            else 100.0 * greatest(0.0, least(1.0,
                1.0 - cast({{ dbt.datediff('present.last_engaged_on', 'days.date', 'day') }}
                           - norms.engagement_grace_days as {{ dbt.type_numeric() }})
                      / (norms.engagement_zero_days - norms.engagement_grace_days)))
        end as engagement_score
    from days
    inner join present on days.account_id = present.account_id and days.date = present.date
    left join norms on days.segment = norms.segment

)

select * from final
