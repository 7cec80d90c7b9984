{{ config(contract={'enforced': true}) }}
{#- Grain: account_id, month. How each account's MRR moved from the end of month M-1
    (mrr_start) to the end of month M (mrr_end), for every month after the first of the billing
    history in which the account paid at the start or at the end (DESIGN.md §5):
    new (no MRR ever before), reactivation (MRR before, none at the start), expansion (up),
    contraction (down, still > 0), churn (to 0), flat (unchanged). `segment` is the account's
    segment at the start of the month, or at its end for new and reactivated revenue: the
    segment a retention figure reports the movement under. -#}
with monthly as (
    select * from {{ ref('int_mrr__account_monthly') }}
),

history_start as (
    select min(month) as month from monthly
),

paired as (
    select
        monthly.account_id,
        monthly.month,
        coalesce(previous.mrr, 0) as mrr_start,
        monthly.mrr as mrr_end,
        previous.segment as segment_start,
        monthly.segment as segment_end,
        exists_before.account_id is not null as paid_before
    from monthly
    left join monthly as previous
        on previous.account_id = monthly.account_id
        and previous.month = cast({{ dbt.dateadd('month', -1, 'monthly.month') }} as date)
    left join (
        select account_id, min(month) as first_month from monthly group by account_id
    ) as exists_before
        on exists_before.account_id = monthly.account_id
        and exists_before.first_month < monthly.month
    cross join history_start
    where monthly.month > history_start.month
        and (coalesce(previous.mrr, 0) > 0 or monthly.mrr > 0)
)

select
    cast(account_id as {{ dbt.type_string() }}) as account_id,
    month,
    cast(case when mrr_start > 0 then segment_start else segment_end end
        as {{ dbt.type_string() }}) as segment,
    cast(mrr_start as {{ dbt.type_numeric() }}) as mrr_start,
    cast(mrr_end as {{ dbt.type_numeric() }}) as mrr_end,
    cast(case
        when mrr_start = 0 and not paid_before then 'new'
        when mrr_start = 0 then 'reactivation'
        when mrr_end = 0 then 'churn'
        when mrr_end > mrr_start then 'expansion'
        when mrr_end < mrr_start then 'contraction'
        else 'flat'
    end as {{ dbt.type_string() }}) as movement_type,
    cast(mrr_end - mrr_start as {{ dbt.type_numeric() }}) as mrr_change
from paired
