{#- One row per day from the first day of product data to the as-of day (var `as_of_date`, or
    the newest day the product feed has delivered). Every daily model (usage, health,
    expansion signals) is laid on this spine, so "the as-of day" has one definition.

    The days are generated from digits rather than an engine's series function: the same SQL
    runs on DuckDB and PostgreSQL, and 10^5 days is far more history than any warehouse holds. -#}
with activity_days as (

    select event_date as activity_date from {{ ref('stg_product__usage_events') }}
    union all
    select submitted_on as activity_date from {{ ref('stg_product__survey_responses') }}

),

bounds as (

    select
        min(activity_date) as first_date,
        {% if var('as_of_date') %}
        cast('{{ var("as_of_date") }}' as date) as last_date
        {% else %}
        max(activity_date) as last_date
        {% endif %}
    from activity_days

),

digits as (

    select 0 as digit union all select 1 union all select 2 union all select 3
    union all select 4 union all select 5 union all select 6 union all select 7
    union all select 8 union all select 9

),

day_offsets as (

    select
        ones.digit + 10 * tens.digit + 100 * hundreds.digit + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_offset
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

final as (

    select cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'bounds.first_date') }} as date)
        as date
    from bounds
    cross join day_offsets
    where day_offsets.day_offset <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}

)

select * from final
