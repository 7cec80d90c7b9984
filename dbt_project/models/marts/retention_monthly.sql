{{ config(contract={'enforced': true}) }}
{#- Grain: month, segment (`enterprise`, `mid_market`, `smb`, and `all`). The month's MRR bridge
    from fct_mrr_movements (start + new + expansion − contraction − churned + reactivation =
    end) and the retention rates of DESIGN.md §5, over the accounts paying at the start:
    NRR = (start + expansion − contraction − churned) ÷ start, GRR = (start − contraction −
    churned) ÷ start, logo churn = churned accounts ÷ accounts at the start, expansion rate =
    expanded accounts ÷ accounts at the start (and its MRR form).

    Trailing 12 months: the accounts paying at the end of month M-12 (the start of the 12-month
    window ending with M), in their segment then; NRR = their MRR at the end of M ÷ their MRR at
    the end of M-12, GRR the same with each account's MRR capped at its starting MRR, logo churn
    the share of them not paying at the end of M. Accounts
    that joined in the window are excluded, accounts that left count at zero, accounts that left
    and came back count with their MRR at M. Null until the history holds month M-12. -#}
with movements as (
    select account_id, month, segment, mrr_start, mrr_end, mrr_change, movement_type
    from {{ ref('fct_mrr_movements') }}
    union all
    select account_id, month, 'all', mrr_start, mrr_end, mrr_change, movement_type
    from {{ ref('fct_mrr_movements') }}
),

monthly as (
    select * from {{ ref('int_mrr__account_monthly') }}
),

report_rows as (
    select months.month, segments.segment
    from (select distinct month from monthly) as months
    cross join (
        select distinct segment from monthly
        union all
        select 'all'
    ) as segments
    where months.month > (select min(month) from monthly)
),

bridge as (
    select
        month,
        segment,
        sum(mrr_start) as mrr_start,
        sum(case when movement_type = 'new' then mrr_change else 0 end) as mrr_new,
        sum(case when movement_type = 'expansion' then mrr_change else 0 end) as mrr_expansion,
        sum(case when movement_type = 'contraction' then -mrr_change else 0 end)
            as mrr_contraction,
        sum(case when movement_type = 'churn' then mrr_start else 0 end) as mrr_churned,
        sum(case when movement_type = 'reactivation' then mrr_change else 0 end)
            as mrr_reactivation,
        sum(mrr_end) as mrr_end,
        sum(case when mrr_start > 0 then 1 else 0 end) as logos_start,
        sum(case when movement_type = 'churn' then 1 else 0 end) as logos_churned,
        sum(case when movement_type = 'expansion' then 1 else 0 end) as logos_expanded
    from movements
    group by month, segment
),

trailing_pairs as (
    select
        now_.month,
        base.segment,
        base.mrr as mrr_base,
        now_.mrr as mrr_now
    from monthly as base
    inner join monthly as now_
        on now_.account_id = base.account_id
        and now_.month = cast({{ dbt.dateadd('month', 12, 'base.month') }} as date)
    where base.mrr > 0
),

trailing_totals as (
    select
        month,
        segment,
        sum(mrr_base) as mrr_base,
        sum(mrr_now) as mrr_now,
        sum(case when mrr_now < mrr_base then mrr_now else mrr_base end) as mrr_now_capped,
        count(*) as logos_base,
        sum(case when mrr_now = 0 then 1 else 0 end) as logos_lost
    from (
        select month, segment, mrr_base, mrr_now from trailing_pairs
        union all
        select month, 'all', mrr_base, mrr_now from trailing_pairs
    ) as pairs
    group by month, segment
),

measured as (
    select
        report_rows.month,
        report_rows.segment,
        coalesce(bridge.mrr_start, 0) as mrr_start,
        coalesce(bridge.mrr_new, 0) as mrr_new,
        coalesce(bridge.mrr_expansion, 0) as mrr_expansion,
        coalesce(bridge.mrr_contraction, 0) as mrr_contraction,
        coalesce(bridge.mrr_churned, 0) as mrr_churned,
        coalesce(bridge.mrr_reactivation, 0) as mrr_reactivation,
        coalesce(bridge.mrr_end, 0) as mrr_end,
        coalesce(bridge.logos_start, 0) as logos_start,
        coalesce(bridge.logos_churned, 0) as logos_churned,
        coalesce(bridge.logos_expanded, 0) as logos_expanded,
        trailing_totals.mrr_base as trailing_mrr_base,
        trailing_totals.mrr_now as trailing_mrr_now,
        trailing_totals.mrr_now_capped as trailing_mrr_now_capped,
        trailing_totals.logos_base as trailing_logos_base,
        trailing_totals.logos_lost as trailing_logos_lost
    from report_rows
    left join bridge
        on bridge.month = report_rows.month and bridge.segment = report_rows.segment
    left join trailing_totals
        on trailing_totals.month = report_rows.month
        and trailing_totals.segment = report_rows.segment
)

select
    month,
    cast(segment as {{ dbt.type_string() }}) as segment,
    cast(mrr_start as {{ dbt.type_numeric() }}) as mrr_start,
    cast(mrr_new as {{ dbt.type_numeric() }}) as mrr_new,
    cast(mrr_expansion as {{ dbt.type_numeric() }}) as mrr_expansion,
    cast(mrr_contraction as {{ dbt.type_numeric() }}) as mrr_contraction,
    cast(mrr_churned as {{ dbt.type_numeric() }}) as mrr_churned,
    cast(mrr_reactivation as {{ dbt.type_numeric() }}) as mrr_reactivation,
    cast(mrr_end as {{ dbt.type_numeric() }}) as mrr_end,
    cast(case when mrr_start > 0
        then (mrr_start + mrr_expansion - mrr_contraction - mrr_churned) / mrr_start
    end as {{ dbt.type_numeric() }}) as nrr,
    cast(case when mrr_start > 0
        then (mrr_start - mrr_contraction - mrr_churned) / mrr_start
    end as {{ dbt.type_numeric() }}) as grr,
    cast(case when trailing_mrr_base > 0 then trailing_mrr_now / trailing_mrr_base end
        as {{ dbt.type_numeric() }}) as nrr_trailing_12m,
    cast(case when trailing_mrr_base > 0 then trailing_mrr_now_capped / trailing_mrr_base end
        as {{ dbt.type_numeric() }}) as grr_trailing_12m,
    cast(logos_start as integer) as logos_start,
    cast(logos_churned as integer) as logos_churned,
    cast(case when logos_start > 0 then 1.0 * logos_churned / logos_start end
        as {{ dbt.type_numeric() }}) as logo_churn_rate,
    cast(case when trailing_logos_base > 0 then 1.0 * trailing_logos_lost / trailing_logos_base end
        as {{ dbt.type_numeric() }}) as logo_churn_rate_trailing_12m,
    cast(logos_expanded as integer) as logos_expanded,
    cast(case when logos_start > 0 then 1.0 * logos_expanded / logos_start end
        as {{ dbt.type_numeric() }}) as expansion_rate,
    cast(case when mrr_start > 0 then mrr_expansion / mrr_start end
        as {{ dbt.type_numeric() }}) as expansion_mrr_rate
from measured
