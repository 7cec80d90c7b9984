"""Retention: MRR never negative, movements that add up, NRR and GRR within sane bounds.

Reconciliation is SQL run in the warehouse (only the offending rows come back): each
movement's change is its end minus its start; an account's start is its previous month's end;
its end is the MRR `int_mrr__account_monthly` computed; and each month of `retention_monthly`
bridges start + new + expansion − contraction − churned + reactivation = end, with the `all`
row's end equal to the sum of the accounts' ends. GRR above 1 is impossible by definition.
"""

from __future__ import annotations

from collections.abc import Mapping

import great_expectations as gx

from expectations.spec import DomainSuite, between, mart, rows_query

MOVEMENT_TYPES = ["new", "expansion", "contraction", "churn", "reactivation", "flat"]


def suite(params: Mapping[str, float]) -> DomainSuite:
    tolerance = params["money_tolerance"]
    movements = mart(
        "fct_mrr_movements",
        between("mrr_start", "mrr_min"),
        between("mrr_end", "mrr_min"),
        gx.expectations.ExpectColumnValuesToBeInSet(column="movement_type",
                                                    value_set=MOVEMENT_TYPES),
        rows_query(f"""
            select account_id, month, mrr_start, mrr_end, mrr_change from checked
            where abs(mrr_end - mrr_start - mrr_change) > {tolerance}""",
                   "mrr_change = mrr_end - mrr_start"),
        rows_query(f"""
            select m.account_id, m.month, m.mrr_start, p.mrr_end as previous_mrr_end
            from checked as m
            inner join marts.fct_mrr_movements as p
                on p.account_id = m.account_id
                and p.month = cast(m.month - interval '1 month' as date)
            where abs(m.mrr_start - p.mrr_end) > {tolerance}""",
                   "an account's mrr_start is its previous month's mrr_end"),
        rows_query(f"""
            select m.account_id, m.month, m.mrr_end, a.mrr as computed_mrr
            from checked as m
            inner join intermediate.int_mrr__account_monthly as a
                on a.account_id = m.account_id and a.month = m.month
            where abs(m.mrr_end - a.mrr) > {tolerance}""",
                   "mrr_end is the account's month-end MRR (int_mrr__account_monthly)"),
    )
    monthly = mart(
        "retention_monthly",
        *(between(column, "mrr_min") for column in ("mrr_start", "mrr_end")),
        *(between(column, "nrr_min", "nrr_max")
          for column in ("nrr", "nrr_trailing_12m")),
        *(between(column, "grr_min", "grr_max")
          for column in ("grr", "grr_trailing_12m")),
        *(between(column, "rate_min", "rate_max")
          for column in ("logo_churn_rate", "expansion_rate")),
        rows_query(f"""
            select month, segment, mrr_start, mrr_end from checked
            where abs(mrr_start + mrr_new + mrr_expansion - mrr_contraction - mrr_churned
                      + mrr_reactivation - mrr_end) > {tolerance}""",
                   "start + new + expansion - contraction - churned + reactivation = end"),
        rows_query(f"""
            select r.month, r.mrr_end, sum(m.mrr_end) as accounts_mrr_end
            from checked as r
            inner join marts.fct_mrr_movements as m on m.month = r.month
            where r.segment = 'all'
            group by r.month, r.mrr_end
            having abs(r.mrr_end - sum(m.mrr_end)) > {tolerance}""",
                   "the all-segments MRR is the sum of the accounts' MRR"),
    )
    cohorts = mart(
        "cohort_retention",
        between("logo_retention", "rate_min", "rate_max"),
    )
    return DomainSuite("retention", "MRR never negative; movements reconcile with the MRR "
                       "change; NRR and GRR within bounds, GRR never above 1.",
                       [movements, monthly, cohorts])
