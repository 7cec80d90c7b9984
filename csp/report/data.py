"""What the report shows, read from the public marts with plain, portable SQL.

The report reads only `marts.*` (the public contract of DESIGN.md §6) and the activation
outbox, like any BI tool would: a chart whose mart has not been built says so instead of
failing the whole report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

RETENTION_MONTHS = 12
COHORTS = 12
COHORT_AGE = 12


@dataclass
class ReportData:
    """Rows for every panel; a panel with no rows carries the reason in `missing`."""

    as_of: date | None
    retention: list[dict[str, Any]] = field(default_factory=list)
    cohorts: list[dict[str, Any]] = field(default_factory=list)
    health_by_segment: list[dict[str, Any]] = field(default_factory=list)
    backtest: list[dict[str, Any]] = field(default_factory=list)
    csm_book: list[dict[str, Any]] = field(default_factory=list)
    renewals: list[dict[str, Any]] = field(default_factory=list)
    save_outcomes: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)


class _Reader:
    """A DB-API connection plus the set of relations that exist, per schema."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        rows = self.rows("select table_schema, table_name from information_schema.tables "
                         "where table_schema in ('marts', 'ops')")
        self.tables = {f"{r['table_schema']}.{r['table_name']}" for r in rows}

    def rows(self, sql: str) -> list[dict[str, Any]]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def columns(self, table: str) -> set[str]:
        schema, name = table.split(".")
        rows = self.rows("select column_name from information_schema.columns "
                         f"where table_schema = '{schema}' and table_name = '{name}'")
        return {r["column_name"] for r in rows}


def read_report_data(conn: Any, as_of: date | None = None) -> ReportData:
    """Every panel's rows as of `as_of` (default: the newest day of the health mart)."""
    reader = _Reader(conn)
    data = ReportData(as_of=as_of)
    if "marts.fct_account_health_daily" in reader.tables and data.as_of is None:
        newest = reader.rows("select max(date) as d from marts.fct_account_health_daily")
        data.as_of = as_date(newest[0]["d"]) if newest and newest[0]["d"] else None
    for panel, needs, load in _PANELS:
        absent = [table for table in needs if table not in reader.tables]
        if absent:
            data.missing[panel] = f"{', '.join(absent)} not built yet"
            continue
        if data.as_of is None and panel in _DATED:
            data.missing[panel] = "marts.fct_account_health_daily has no rows"
            continue
        setattr(data, panel, load(reader, data.as_of))
        if not getattr(data, panel):
            data.missing[panel] = "no rows yet"
    return data


def as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _retention(reader: _Reader, as_of: date | None) -> list[dict[str, Any]]:
    rows = reader.rows(
        "select month, mrr_start, mrr_new, mrr_expansion, mrr_reactivation, mrr_contraction, "
        "mrr_churned, mrr_end, nrr, grr, nrr_trailing_12m, grr_trailing_12m "
        "from marts.retention_monthly where segment = 'all' order by month")
    return rows[-RETENTION_MONTHS:]


def _cohorts(reader: _Reader, as_of: date | None) -> list[dict[str, Any]]:
    return reader.rows(
        "select cohort_month, months_since_start, accounts_start, revenue_retention, "
        "logo_retention from marts.cohort_retention "
        f"where segment = 'all' and months_since_start <= {COHORT_AGE} "
        "and cohort_month in (select cohort_month from (select distinct cohort_month "
        f"from marts.cohort_retention where segment = 'all' order by cohort_month desc "
        f"limit {COHORTS}) as newest) order by cohort_month, months_since_start")


def _health_by_segment(reader: _Reader, as_of: date | None) -> list[dict[str, Any]]:
    return reader.rows(
        "select accounts.segment, health.health_band, count(*) as accounts "
        "from marts.fct_account_health_daily as health "
        "join marts.dim_accounts as accounts on accounts.account_id = health.account_id "
        f"where health.date = '{as_of}' group by accounts.segment, health.health_band")


def _backtest(reader: _Reader, as_of: date | None) -> list[dict[str, Any]]:
    return reader.rows(
        "select health_band, sum(accounts) as accounts, sum(churned_90d) as churned_90d, "
        "count(distinct month) as months from marts.health_backtest "
        "group by health_band")


def _csm_book(reader: _Reader, as_of: date | None) -> list[dict[str, Any]]:
    return reader.rows(
        "select book.csm_id, coalesce(max(owners.csm_email), book.csm_id) as csm, "
        "max(book.arr) as arr, max(book.at_risk_arr) as at_risk_arr, "
        "max(book.renewals_due_90d) as renewals_due_90d "
        "from marts.csm_book_of_business as book "
        "left join marts.dim_accounts as owners on owners.csm_id = book.csm_id "
        f"where book.date = (select max(date) from marts.csm_book_of_business "
        f"where date <= '{as_of}') group by book.csm_id order by at_risk_arr desc")


def _renewals(reader: _Reader, as_of: date | None) -> list[dict[str, Any]]:
    name = "name" if "name" in reader.columns("marts.dim_accounts") else "account_name"
    return reader.rows(
        f"select accounts.{name} as account, accounts.segment, accounts.arr, "
        "accounts.renewal_date, accounts.csm_email, health.health_score, health.health_band "
        "from marts.dim_accounts as accounts "
        "left join marts.fct_account_health_daily as health "
        f"on health.account_id = accounts.account_id and health.date = '{as_of}' "
        f"where accounts.renewal_date >= '{as_of}' "
        f"and accounts.renewal_date < cast('{as_of}' as date) + interval '90 days' "
        "and accounts.arr > 0 order by accounts.renewal_date, accounts.arr desc")


def _save_outcomes(reader: _Reader, as_of: date | None) -> list[dict[str, Any]]:
    return reader.rows(
        "select rule, outcome, count(*) as accounts, sum(mrr_at_risk) as mrr_at_risk, "
        "sum(mrr_saved) as mrr_saved from marts.fct_save_outcomes group by rule, outcome "
        "order by rule, outcome")


def _deliveries(reader: _Reader, as_of: date | None) -> list[dict[str, Any]]:
    columns = reader.columns("ops.outbox")
    rule = "rule" if "rule" in columns else "kind"
    return reader.rows(f"select {rule} as rule, kind, status, count(*) as actions "
                       f"from ops.outbox group by {rule}, kind, status order by 1, 2, 3")


_DATED = {"health_by_segment", "csm_book", "renewals"}
_PANELS = (
    ("retention", ("marts.retention_monthly",), _retention),
    ("cohorts", ("marts.cohort_retention",), _cohorts),
    ("health_by_segment", ("marts.fct_account_health_daily", "marts.dim_accounts"),
     _health_by_segment),
    ("backtest", ("marts.health_backtest",), _backtest),
    ("csm_book", ("marts.csm_book_of_business", "marts.dim_accounts"), _csm_book),
    ("renewals", ("marts.dim_accounts", "marts.fct_account_health_daily"), _renewals),
    ("save_outcomes", ("marts.fct_save_outcomes",), _save_outcomes),
    ("deliveries", ("ops.outbox",), _deliveries),
)
