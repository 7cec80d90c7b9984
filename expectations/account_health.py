"""Account health: one row per account per day, scores within 0–100, bands as configured.

The components are the ones configured in the `health_weights` seed, and the bands are
checked against the `health_bands` seed as loaded in the warehouse (`config.health_bands`):
a row's band must be its segment's band with the highest `min_score` the score reaches. So
changing a band edge in the seed changes what "consistent" means, with no edit here.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import great_expectations as gx

from expectations.parameters import PROJECT_ROOT
from expectations.spec import DomainSuite, between, mart, rows_query

SEEDS = PROJECT_ROOT / "dbt_project" / "seeds"
BANDS = ["healthy", "at_risk", "critical"]

BANDS_QUERY = """
    select h.account_id, h.date, h.segment, h.health_score, h.health_band
    from checked as h
    where h.health_score is not null
      and coalesce(h.health_band, '') <> coalesce((
          select b.health_band from config.health_bands as b
          where b.segment = h.segment and b.min_score <= h.health_score
          order by b.min_score desc limit 1), '')"""


def components(seeds: Path = SEEDS) -> list[str]:
    """The configured health components (seed `health_weights`), in first-seen order."""
    with (seeds / "health_weights.csv").open(encoding="utf-8", newline="") as handle:
        return list(dict.fromkeys(row["component"] for row in csv.DictReader(handle)))


def suite(params: Mapping[str, float]) -> DomainSuite:
    scores = ["health_score", *(f"{component}_score" for component in components())]
    health = mart(
        "fct_account_health_daily",
        gx.expectations.ExpectColumnValuesToNotBeNull(column="health_score"),
        *(between(column, "score_min", "score_max") for column in scores),
        gx.expectations.ExpectColumnValuesToBeInSet(column="health_band", value_set=BANDS),
        rows_query(BANDS_QUERY, "health_band is the segment's configured band for the score "
                                "(seed health_bands)"),
    )
    backtest = mart(
        "health_backtest",
        gx.expectations.ExpectColumnValuesToBeInSet(column="health_band", value_set=BANDS),
        between("churn_rate_90d", "rate_min", "rate_max"),
    )
    return DomainSuite("account_health", "One health row per account per day; scores and "
                       "components within 0-100; bands as configured.",
                       [health, backtest, mart("fct_support_quality")])
