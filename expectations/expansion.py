"""Expansion signals: one row per account, day and signal, of a known kind and positive value.

The signal kinds are the ones configured in the `expansion_rules` seed, so adding a rule there
does not make this suite fail.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping

import great_expectations as gx

from expectations.account_health import SEEDS
from expectations.spec import DomainSuite, between, mart


def signal_types() -> list[str]:
    with (SEEDS / "expansion_rules.csv").open(encoding="utf-8", newline="") as handle:
        return list(dict.fromkeys(row["signal_type"] for row in csv.DictReader(handle)))


def suite(params: Mapping[str, float]) -> DomainSuite:
    signals = mart(
        "fct_expansion_signals",
        gx.expectations.ExpectColumnValuesToBeInSet(column="signal_type",
                                                    value_set=signal_types()),
        between("estimated_value", "mrr_min"),
    )
    return DomainSuite("expansion", "Expansion signals keyed, of configured kinds, never "
                       "negative in value.", [signals])
