"""Raw layer: was each source loaded recently, and does its newest volume look like its past?

Freshness is measured on dlt's own load log (`raw_<source>._dlt_loads`, completed loads),
not on record timestamps: a quiet CRM is not a broken pipeline, a pipeline that stopped
committing is. Volume compares the rows of the newest window (the newest day of usage
events; the newest 7 days of tickets, which are few per day) with the same window in each of
the previous weeks — same weekdays, because weekends are quiet — so a 70 % drop in events is
caught as a data problem before it reads as a churn wave in the health scores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import great_expectations as gx

from expectations.parameters import freshness_key
from expectations.spec import AssetChecks, DomainSuite, between

# (check name, table, day expression, window in days); windows must fit in a week.
VOLUME_CHECKS = (
    ("product", "volume_usage_events", "raw_product.usage_events", "occurred_at", 1),
    ("zendesk", "volume_tickets", "raw_zendesk.tickets", "created_at", 7),
)


def freshness_query(source: str) -> str:
    return (f"select '{source}' as source, max(inserted_at) as newest_load, "
            f"extract(epoch from (current_timestamp - max(inserted_at))) / 3600.0 "
            f"as hours_since_load from raw_{source}._dlt_loads where status = 0")


def volume_query(table: str, day_column: str, window_days: int, history_weeks: int) -> str:
    """One row: rows in the newest window, the mean of the same window in past weeks, ratio."""
    weeks = " union all ".join(f"select {k} as k" for k in range(history_weeks + 1))
    return f"""
        with daily as (
            select cast({day_column} as date) as day, count(*) as n from {table} group by 1
        ),
        latest as (select max(day) as day from daily),
        weeks as ({weeks}),
        windows as (
            select w.k, d.n
            from daily as d cross join latest as l cross join weeks as w
            where (l.day - d.day) - 7 * w.k between 0 and {window_days - 1}
        ),
        totals as (
            select
                sum(case when k = 0 then n else 0 end) as latest_rows,
                sum(case when k > 0 then n else 0 end) as history_rows,
                count(distinct case when k > 0 then k end) as history_windows
            from windows
        )
        select
            '{table}' as source_table,
            (select day from latest) as latest_day,
            latest_rows,
            history_rows * 1.0 / nullif(history_windows, 0) as baseline_rows,
            latest_rows * 1.0 / nullif(history_rows * 1.0 / nullif(history_windows, 0), 0)
                as ratio
        from totals"""


def suite(sources: Iterable[str], params: Mapping[str, float]) -> DomainSuite:
    sources = list(sources)
    assets = [AssetChecks(
        name=f"freshness_{source}", query=freshness_query(source), keys=("source",),
        expectations=[
            gx.expectations.ExpectColumnValuesToNotBeNull(column="hours_since_load"),
            between("hours_since_load", high=freshness_key(source)),
        ]) for source in sources]
    weeks = int(params["volume_history_weeks"])
    assets += [AssetChecks(
        name=name, query=volume_query(table, column, window, weeks), keys=("source_table",),
        expectations=[
            gx.expectations.ExpectColumnValuesToNotBeNull(column="latest_rows"),
            between("ratio", "volume_min_ratio", "volume_max_ratio"),
        ]) for source, name, table, column, window in VOLUME_CHECKS if source in sources]
    return DomainSuite("raw_sources", "Each source loaded within its window; newest volumes "
                       "within a band of the same weekdays in past weeks.", assets)
