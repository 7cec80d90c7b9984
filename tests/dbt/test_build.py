"""The whole dbt project builds and tests on DuckDB and PostgreSQL from a real raw layer,
and every public mart of DESIGN.md §6 exists in schema `marts` with its contracted columns."""

from __future__ import annotations

import pytest

from csp.warehouse import Warehouse
from tests.dbt_fixtures import RAW_SOURCES, BuiltWarehouse
from tests.integrations.echo_vendor import query

# DESIGN.md §6: each mart's primary key first, then the columns it must include.
MARTS: dict[str, tuple[str, ...]] = {
    "dim_accounts": ("account_id", "crm_account_id", "stripe_customer_id",
                     "zendesk_organization_id", "account_name", "domain", "industry",
                     "segment", "csm_id", "csm_email", "csm_slack_id", "plan", "seats", "mrr",
                     "arr", "customer_since", "renewal_date", "lifecycle_stage"),
    "fct_account_health_daily": ("account_id", "date", "health_score", "health_band",
                                 "usage_frequency_score", "feature_depth_score",
                                 "data_growth_score", "support_load_score", "payment_score",
                                 "nps_score", "engagement_score", "missing_components",
                                 "score_change_7d", "score_change_30d", "main_driver"),
    "fct_mrr_movements": ("account_id", "month", "mrr_start", "mrr_end", "movement_type",
                          "mrr_change"),
    "retention_monthly": ("month", "segment", "mrr_start", "mrr_new", "mrr_expansion",
                          "mrr_contraction", "mrr_churned", "mrr_reactivation", "mrr_end",
                          "nrr", "grr", "nrr_trailing_12m", "grr_trailing_12m", "logos_start",
                          "logos_churned", "logo_churn_rate", "expansion_rate"),
    "cohort_retention": ("cohort_month", "months_since_start", "segment", "accounts_start",
                         "accounts_retained", "logo_retention", "revenue_retention"),
    "fct_expansion_signals": ("account_id", "date", "signal_type", "strength", "evidence",
                              "estimated_value"),
    "fct_save_outcomes": ("account_id", "flagged_on", "csm_id", "rule", "play",
                          "renewal_date", "outcome", "mrr_at_risk", "mrr_saved"),
    "fct_lifecycle_touchpoints": ("account_id", "touchpoint_type", "due_on", "status"),
    "fct_support_quality": ("account_id", "month", "tickets_how_to", "tickets_bug",
                            "tickets_feature_request", "tickets_advisory", "first_reply_hours",
                            "resolution_hours", "csat", "nps"),
    "csm_book_of_business": ("csm_id", "date", "accounts", "arr", "at_risk_arr",
                             "renewals_due_90d", "nrr_trailing_12m", "save_rate"),
    "health_backtest": ("month", "health_band", "accounts", "churned_90d", "churn_rate_90d",
                        "lift", "auc"),
}


def columns_of(warehouse: Warehouse, schema: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table, column in query(warehouse, "select table_name, column_name from "
                                          f"information_schema.columns where table_schema = "
                                          f"'{schema}'"):
        found.setdefault(table, set()).add(column)
    return found


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_the_raw_layer_holds_every_default_source(engine: str,
                                                  request: pytest.FixtureRequest) -> None:
    warehouse: Warehouse = request.getfixturevalue(f"{engine}_warehouse")
    for source in RAW_SOURCES:
        tables = [table for table in columns_of(warehouse, f"raw_{source}")
                  if not table.startswith("_dlt")]
        assert tables, source
        assert sum(query(warehouse, f'select count(*) from raw_{source}."{table}"')[0][0]
                   for table in tables) > 0, source


def test_the_whole_project_builds_and_every_mart_has_its_columns(
        built_warehouse: BuiltWarehouse) -> None:
    run = built_warehouse.run
    assert run.error is None, run.error
    assert not run.failed_nodes, "; ".join(node.problem() for node in run.failed_nodes)
    assert run.success
    built = {node.name for node in run.nodes if node.resource_type == "model"}
    assert set(MARTS) <= built, f"marts not built: {sorted(set(MARTS) - built)}"
    marts = columns_of(built_warehouse.warehouse, "marts")
    missing = {mart: sorted(set(wanted) - marts.get(mart, set()))
               for mart, wanted in MARTS.items() if set(wanted) - marts.get(mart, set())}
    assert not missing, f"columns missing from marts: {missing}"
    empty = [mart for mart in MARTS
             if query(built_warehouse.warehouse, f"select count(*) from marts.{mart}")[0][0] == 0]
    assert not empty, f"empty marts on the small company: {empty}"
