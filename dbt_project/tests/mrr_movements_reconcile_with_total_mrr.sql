{#- The MRR bridge closes month by month: the movements of a month add up to the change of total
    month-end MRR from the month before (DESIGN.md §5; issue: "the sum of movements reconciles
    month by month with the change in total MRR"), and retention_monthly's `all` row says the
    same with its components. Fails with the months that do not close (to the cent). -#}
with totals as (
    select month, sum(mrr) as total_mrr
    from {{ ref('int_mrr__account_monthly') }}
    group by month
),

changes as (
    select month, sum(mrr_change) as movements
    from {{ ref('fct_mrr_movements') }}
    group by month
),

bridge as (
    select
        month,
        mrr_end - (mrr_start + mrr_new + mrr_expansion - mrr_contraction - mrr_churned
            + mrr_reactivation) as bridge_gap
    from {{ ref('retention_monthly') }}
    where segment = 'all'
)

select
    totals.month,
    totals.total_mrr,
    previous.total_mrr as previous_total_mrr,
    coalesce(changes.movements, 0) as movements,
    bridge.bridge_gap
from totals
inner join totals as previous
    on previous.month = cast({{ dbt.dateadd('month', -1, 'totals.month') }} as date)
left join changes on changes.month = totals.month
left join bridge on bridge.month = totals.month
where abs(totals.total_mrr - previous.total_mrr - coalesce(changes.movements, 0)) > 0.01
    or bridge.month is null
    or abs(bridge.bridge_gap) > 0.01
