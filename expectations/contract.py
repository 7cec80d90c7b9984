"""Names shared by the suites, the verdict record and the gate, free of Great Expectations.

The gate and the CLI import these without paying for GX's import (tens of seconds on a busy
machine); only validating needs GX itself.
"""

from __future__ import annotations

DOMAINS = ("raw_sources", "account_health", "retention", "expansion", "activation_inputs")

MARTS_SCHEMA = "marts"

# DESIGN.md §6: each public mart and its primary key.
MART_KEYS: dict[str, tuple[str, ...]] = {
    "dim_accounts": ("account_id",),
    "fct_account_health_daily": ("account_id", "date"),
    "fct_mrr_movements": ("account_id", "month"),
    "retention_monthly": ("month", "segment"),
    "cohort_retention": ("cohort_month", "months_since_start", "segment"),
    "fct_expansion_signals": ("account_id", "date", "signal_type"),
    "fct_save_outcomes": ("account_id", "flagged_on"),
    "fct_lifecycle_touchpoints": ("account_id", "touchpoint_type", "due_on"),
    "fct_support_quality": ("account_id", "month"),
    "csm_book_of_business": ("csm_id", "date"),
    "health_backtest": ("month", "health_band"),
}

# Failed rows are sampled, never fetched whole: GX caps the unexpected rows it returns.
SAMPLE_ROWS = 5
