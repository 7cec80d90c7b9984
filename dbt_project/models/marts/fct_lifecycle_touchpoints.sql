{#- Grain: account_id, touchpoint_type, due_on. The lifecycle touchpoints of DESIGN.md §5 for
    every billed account while it is a customer, up to var touchpoint_horizon_days after the
    as-of day: the day-30 check-in and day-90 health check after customer_since, an annual
    review on each anniversary of it, and renewal prep 90 days before each annual renewal.

    Status on the as-of day — the CRM keeps only each contact's latest engagement, so "done"
    is read from it: upcoming (the window, var touchpoint_window_days before due_on, has not
    opened), done (a contact of the account engaged on or after the window opened), due (window
    open, not done, at most touchpoint_window_days past due_on), overdue (later than that). -#}
{%- set window_days = var('touchpoint_window_days') %}
with as_of as (

    select as_of_date from {{ ref('int_lifecycle__as_of') }}

),

spans as (

    select * from {{ ref('int_lifecycle__customer_spans') }}

),

digits as (

    select 0 as digit union all select 1 union all select 2 union all select 3
    union all select 4 union all select 5 union all select 6 union all select 7
    union all select 8 union all select 9

),

anniversaries as (

    select ones.digit + 10 * tens.digit as years
    from digits as ones
    cross join digits as tens
    where ones.digit + 10 * tens.digit >= 1

),

scheduled as (

    select account_id, 'day_30_check_in' as touchpoint_type,
        cast({{ dbt.dateadd('day', 30, 'customer_since') }} as date) as due_on
    from spans

    union all

    select account_id, 'day_90_health_check' as touchpoint_type,
        cast({{ dbt.dateadd('day', 90, 'customer_since') }} as date) as due_on
    from spans

    union all

    select spans.account_id, 'annual_review' as touchpoint_type,
        cast({{ dbt.dateadd('year', 'anniversaries.years', 'spans.customer_since') }} as date)
            as due_on
    from spans
    cross join anniversaries

    union all

    select account_id, 'renewal_prep' as touchpoint_type,
        cast({{ dbt.dateadd('day', -90, 'renewal_on') }} as date) as due_on
    from {{ ref('int_lifecycle__renewals') }}
    where is_annual

),

in_span as (

    select distinct
        scheduled.account_id,
        scheduled.touchpoint_type,
        scheduled.due_on,
        spans.csm_id
    from scheduled
    inner join spans
        on spans.account_id = scheduled.account_id
    cross join as_of
    where scheduled.due_on >= spans.customer_since
        and scheduled.due_on <= coalesce(spans.customer_until,
            cast({{ dbt.dateadd('day', var('touchpoint_horizon_days'), 'as_of.as_of_date') }}
                as date))

),

engagement as (

    select
        account_id,
        cast(max(last_engaged_at) as date) as last_engaged_on
    from {{ ref('int_contacts') }}
    where account_id is not null
        and removed_at is null
    group by account_id

),

judged as (

    select
        in_span.account_id,
        in_span.touchpoint_type,
        in_span.due_on,
        in_span.csm_id,
        cast({{ dbt.dateadd('day', -window_days, 'in_span.due_on') }} as date) as window_opens_on,
        engagement.last_engaged_on,
        as_of.as_of_date,
        coalesce(engagement.last_engaged_on
            >= cast({{ dbt.dateadd('day', -window_days, 'in_span.due_on') }} as date)
            and engagement.last_engaged_on <= as_of.as_of_date, false) as is_done
    from in_span
    cross join as_of
    left join engagement
        on engagement.account_id = in_span.account_id

)

select
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    cast(touchpoint_type as {{ dbt.type_string() }}) as touchpoint_type,
    due_on,
    cast(case
        when as_of_date < window_opens_on then 'upcoming'
        when is_done then 'done'
        when {{ dbt.datediff('due_on', 'as_of_date', 'day') }} <= {{ window_days }} then 'due'
        else 'overdue'
    end as {{ dbt.type_string() }}) as status,
    cast(csm_id as {{ dbt.type_string() }}) as csm_id,
    window_opens_on,
    last_engaged_on,
    cast(case
        when as_of_date > due_on and not is_done then {{ dbt.datediff('due_on', 'as_of_date', 'day') }}
        else 0
    end as integer) as days_overdue,
    as_of_date
from judged
