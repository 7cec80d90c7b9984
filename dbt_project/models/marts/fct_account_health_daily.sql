{{ config(
    materialized='incremental',
    unique_key=['account_id', 'date'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}
{#- Grain: account_id, date — one row per account per day while it is a customer.
    health_score = Σ wᵢ·sᵢ ÷ Σ wᵢ over the components that have data that day (weights per
    segment from seed health_weights), so a missing component hands its weight to the others
    and is listed in missing_components. The band is the segment's highest band in seed
    health_bands whose min_score the score reaches; needs_intervention is a score below the
    segment's intervention_threshold (seed health_norms). main_driver is the component whose share of
    the score (wᵢ·sᵢ ÷ Σ wᵢ) moved most over 7 days, so an alert can say why.
    Incremental: a run recomputes its last var `health_lookback_days` days and everything newer;
    the changes read the scores 7 and 30 days back, so the scored window starts 30 days earlier. -#}
{%- set components = ['usage_frequency', 'feature_depth', 'data_growth', 'support_load',
                      'payment', 'nps', 'engagement'] -%}
with
{% if is_incremental() %}
cutoff as (

    select {{ incremental_first_day(var('health_lookback_days')) }} as first_date
    from {{ this }}

),
{% endif %}

days as (

    select account_id, date, segment
    from {{ ref('int_health__account_days') }}
    where is_customer
    {% if is_incremental() %}
        and date >= (select {{ dbt.dateadd('day', -30, 'first_date') }} from cutoff)
    {% endif %}

),

weights as (

    select
        segment,
        {% for component in components %}
        max(case when component = '{{ component }}' then weight end) as {{ component }}_weight
        {{- "," if not loop.last }}
        {% endfor %}
    from {{ ref('health_weights') }}
    group by segment

),

components as (

    select
        days.account_id,
        days.date,
        days.segment,
        {% for component in components %}
        cast({{ component }}.{{ component }}_score as {{ dbt.type_numeric() }})
            as {{ component }}_score,
        coalesce(weights.{{ component }}_weight, 0) as {{ component }}_weight
        {{- "," if not loop.last }}
        {% endfor %}
    from days
    left join weights on days.segment = weights.segment
    {% for component in components %}
    left join {{ ref('int_health__' ~ component ~ '_daily') }} as {{ component }}
        on days.account_id = {{ component }}.account_id and days.date = {{ component }}.date
    {% endfor %}

),

weighted as (

    select
        *,
        {% for component in components %}
        case when {{ component }}_score is not null then {{ component }}_weight else 0 end
        {{- " +" if not loop.last }}
        {% endfor %} as present_weight
    from components

),

scored as (

    select
        *,
        {#- Rounded before banding: the band must agree with the score as stored and shown
            (74.9999996 would be stored as 75.00 yet banded at_risk). -#}
        round(cast((
            {% for component in components %}
            coalesce({{ component }}_score * {{ component }}_weight, 0)
            {{- " +" if not loop.last }}
            {% endfor %}
        ) / nullif(present_weight, 0) as {{ dbt.type_numeric() }}), 2) as health_score,
        {% for component in components %}
        coalesce({{ component }}_score * {{ component }}_weight, 0) / nullif(present_weight, 0)
            as {{ component }}_contribution
        {{- "," if not loop.last }}
        {% endfor %}
    from weighted

),

banded as (

    select
        scored.account_id,
        scored.date,
        bands.health_band,
        row_number() over (
            partition by scored.account_id, scored.date order by bands.min_score desc
        ) as band_rank
    from scored
    inner join {{ ref('health_bands') }} as bands
        on scored.segment = bands.segment and scored.health_score >= bands.min_score

),

changes as (

    select
        scored.*,
        scored.health_score - week_ago.health_score as score_change_7d,
        scored.health_score - month_ago.health_score as score_change_30d,
        {% for component in components %}
        abs(scored.{{ component }}_contribution - week_ago.{{ component }}_contribution)
            as {{ component }}_moved
        {{- "," if not loop.last }}
        {% endfor %}
    from scored
    left join scored as week_ago
        on scored.account_id = week_ago.account_id
        and week_ago.date = cast({{ dbt.dateadd('day', -7, 'scored.date') }} as date)
    left join scored as month_ago
        on scored.account_id = month_ago.account_id
        and month_ago.date = cast({{ dbt.dateadd('day', -30, 'scored.date') }} as date)

),

drivers as (

    select
        *,
        greatest(
            {% for component in components %}
            {{ component }}_moved{{ "," if not loop.last }}
            {% endfor %}
        ) as largest_move
    from changes

),

final as (

    select
        cast(drivers.account_id as {{ dbt.type_string() }}) as account_id,
        drivers.date,
        cast(drivers.segment as {{ dbt.type_string() }}) as segment,
        cast(drivers.health_score as {{ dbt.type_numeric() }}) as health_score,
        cast(banded.health_band as {{ dbt.type_string() }}) as health_band,
        drivers.health_score < norms.intervention_threshold as needs_intervention,
        {% for component in components %}
        drivers.{{ component }}_score,
        {% endfor %}
        cast(nullif(substr(
            {% for component in components %}
            case when drivers.{{ component }}_score is null then ',{{ component }}' else '' end
            {{- " ||" if not loop.last }}
            {% endfor %}, 2), '') as {{ dbt.type_string() }}) as missing_components,
        cast(drivers.score_change_7d as {{ dbt.type_numeric() }}) as score_change_7d,
        cast(drivers.score_change_30d as {{ dbt.type_numeric() }}) as score_change_30d,
        cast(case
            when drivers.largest_move is null or drivers.largest_move = 0 then null
            {% for component in components %}
            when drivers.{{ component }}_moved = drivers.largest_move then '{{ component }}'
            {% endfor %}
        end as {{ dbt.type_string() }}) as main_driver
    from drivers
    left join {{ ref('health_norms') }} as norms on drivers.segment = norms.segment
    left join banded
        on drivers.account_id = banded.account_id
        and drivers.date = banded.date
        and banded.band_rank = 1
    {% if is_incremental() %}
    where drivers.date >= (select first_date from cutoff)
    {{ incremental_last_day_filter('drivers.date') }}
    {% endif %}

)

select * from final
