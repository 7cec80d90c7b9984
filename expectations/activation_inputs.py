"""Activation inputs: what alerts and CRM tasks are built from must name a real owner.

Every paying account must resolve to a CRM owner (a CSM), or its alert would go nowhere; the
share of billing customers matched to no CRM account must stay small, or revenue is missing
from every account-level figure. The marts activation reads (accounts, save outcomes,
lifecycle touchpoints, the CSM book) must be keyed.
"""

from __future__ import annotations

from collections.abc import Mapping

import great_expectations as gx

from expectations.spec import AssetChecks, DomainSuite, between, mart, rows_query

SEGMENTS = ["enterprise", "mid_market", "smb"]

UNMATCHED_BILLING_QUERY = """
    with customers as (
        select 0 as unmatched from intermediate.int_identity__account_keys
        where source_system = 'stripe'
        union all
        select 1 from intermediate.int_identity__unmatched where source_system = 'stripe'
    )
    select 'stripe' as source_system, count(*) as customers, sum(unmatched) as unmatched,
           sum(unmatched) * 1.0 / nullif(count(*), 0) as unmatched_share
    from customers"""


def suite(params: Mapping[str, float]) -> DomainSuite:
    accounts = mart(
        "dim_accounts",
        gx.expectations.ExpectColumnValuesToBeInSet(column="segment", value_set=SEGMENTS),
        between("mrr", "mrr_min"),
        rows_query("""
            select account_id, account_name, mrr from checked
            where mrr > 0 and csm_id is null""",
                   "every paying account resolves to a CRM owner (csm_id)"),
    )
    unmatched = AssetChecks(
        name="unmatched_billing_customers", query=UNMATCHED_BILLING_QUERY,
        keys=("source_system",),
        expectations=[between("unmatched_share", high="max_unmatched_billing_share")])
    return DomainSuite("activation_inputs", "Every paying account has a CRM owner; few "
                       "unmatched billing customers; activation's marts keyed.",
                       [accounts, unmatched, mart("fct_save_outcomes"),
                        mart("fct_lifecycle_touchpoints"), mart("csm_book_of_business")])
