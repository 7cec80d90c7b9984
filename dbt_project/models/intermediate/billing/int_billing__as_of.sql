{#- Grain: one row. The day billing is reported as of (var `as_of_date`, else the newest day
    in the Stripe data), the instant that day ends (month-end snapshots of the current month are
    taken then), and where the loaded Stripe events begin (before that instant, a subscription
    is known only from its invoices). -#}
with activity as (
    select max(created_at) as last_at from {{ ref('stg_stripe__invoices') }}
    union all
    select max(created_at) from {{ ref('stg_stripe__charges') }}
    union all
    select max(created_at) from {{ ref('stg_stripe__events') }}
    union all
    select max(changed_at) from {{ ref('stg_stripe__subscriptions') }}
),

as_of as (
    {#- One row either way: the aggregate also makes the chosen day a single row. -#}
    select
        {% if var('as_of_date') is not none -%}
        cast('{{ var("as_of_date") }}' as date)
        {%- else -%}
        cast(max(last_at) as date)
        {%- endif %} as as_of_date
    from (select max(last_at) as last_at from activity) as newest
)

select
    as_of.as_of_date,
    cast({{ dbt.date_trunc('month', 'as_of.as_of_date') }} as date) as as_of_month,
    cast({{ dbt.dateadd('day', 1, 'as_of.as_of_date') }} as timestamp) as as_of_end_at,
    (select min(created_at) from {{ ref('stg_stripe__events') }}) as events_start_at
from as_of
