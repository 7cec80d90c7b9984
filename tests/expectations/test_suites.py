"""The suites on real dbt-built marts: a clean build passes, each corruption fails its check.

The corruptions are the ones the validation gate exists for (issue 5): a duplicate key, a
health score of 130, a negative MRR, a stale source, a 70 % drop in usage rows and a paying
account without a CRM owner. Each must fail the expectation written for it — not merely make
some suite fail — and the failure must carry the evidence (observed value or bad rows).
"""

from __future__ import annotations

import pytest

from expectations.contract import DOMAINS
from expectations.verdicts import Failure
from tests.expectations.conftest import Validated


def failures(validated: Validated) -> list[Failure]:
    return [failure for verdict in validated.run.verdicts for failure in verdict.failures]


def test_a_clean_build_passes_every_suite(clean_duckdb: Validated) -> None:
    verdicts = {verdict.suite: verdict for verdict in clean_duckdb.run.verdicts}
    assert list(verdicts) == list(DOMAINS)
    assert failures(clean_duckdb) == []
    assert all(verdict.success and verdict.evaluated > 0 for verdict in verdicts.values())


# corruption -> (suite, asset, expectation type or description fragment, column)
EXPECTED = {
    "duplicate key": ("activation_inputs", "dim_accounts",
                      "expect_column_values_to_be_unique", "account_id"),
    "score 130": ("account_health", "fct_account_health_daily",
                  "expect_column_values_to_be_between", "health_score"),
    "negative MRR": ("retention", "fct_mrr_movements",
                     "expect_column_values_to_be_between", "mrr_end"),
    "stale source": ("raw_sources", "freshness_hubspot",
                     "expect_column_values_to_be_between", "hours_since_load"),
    "70% drop in usage rows": ("raw_sources", "volume_usage_events",
                               "expect_column_values_to_be_between", "ratio"),
    "unmatched owner": ("activation_inputs", "dim_accounts", "CRM owner", ""),
}


@pytest.mark.parametrize("corruption", list(EXPECTED))
def test_each_corruption_fails_the_expectation_written_for_it(
        corrupted_duckdb: Validated, corruption: str) -> None:
    suite, asset, expectation, column = EXPECTED[corruption]
    matching = [f for f in failures(corrupted_duckdb)
                if (f.suite, f.asset, f.column) == (suite, asset, column)
                and expectation in f.expectation]
    assert len(matching) == 1, [f for f in failures(corrupted_duckdb) if f.asset == asset]
    assert matching[0].observed and not matching[0].observed.startswith("error")
    verdict = {v.suite: v for v in corrupted_duckdb.run.verdicts}[suite]
    assert not verdict.success


def test_failures_carry_the_evidence(corrupted_duckdb: Validated) -> None:
    by_asset = {(f.asset, f.column): f for f in failures(corrupted_duckdb)}
    score = by_asset[("fct_account_health_daily", "health_score")]
    assert score.observed == "1 of " + score.observed.split(" of ")[1]
    assert any("130" in str(row) for row in score.sample)
    hours = float(by_asset[("freshness_hubspot", "hours_since_load")].sample[0]
                  ["hours_since_load"])
    assert 72 <= hours < 80
    ratio = by_asset[("volume_usage_events", "ratio")]
    assert 0.2 < float(ratio.sample[0]["ratio"]) < 0.4
    owner = by_asset[("dim_accounts", "")]
    assert owner.observed == "1 unexpected rows"
    assert float(owner.sample[0]["mrr"]) > 0


def test_corruption_in_one_place_leaves_unrelated_suites_passing(
        corrupted_duckdb: Validated) -> None:
    verdicts = {verdict.suite: verdict.success for verdict in corrupted_duckdb.run.verdicts}
    assert verdicts["expansion"] is True
