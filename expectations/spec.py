"""What a domain suite is made of, independent of Great Expectations' stores.

A domain (say, retention) checks several tables, and a GX suite validates one batch, so a
domain is a list of `AssetChecks`: a table (or a query whose result GX validates — the way a
computed figure such as a freshness lag is checked with SQL pushdown) and its expectations.
Keys are named once, in `contract.MART_KEYS` (DESIGN.md §6), so every public mart gets the same
uniqueness and not-null checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import great_expectations as gx
from great_expectations.expectations import Expectation

from expectations.contract import MART_KEYS, MARTS_SCHEMA, SAMPLE_ROWS


def param(name: str) -> dict[str, str]:
    """A threshold bound at run time (`expectation_parameters=`), not a literal in the suite."""
    return {"$PARAMETER": name}


@dataclass(frozen=True)
class AssetChecks:
    """Expectations on one table (`table`, in `schema`) or on one query's result (`query`)."""

    name: str
    expectations: list[Expectation]
    table: str | None = None
    schema: str = MARTS_SCHEMA
    query: str | None = None
    keys: tuple[str, ...] = ()          # identify a failing row in the failure report


@dataclass(frozen=True)
class DomainSuite:
    """One domain's checks; it passes only when every expectation of every asset passes."""

    name: str
    description: str
    assets: list[AssetChecks] = field(default_factory=list)


def row_result_format(keys: tuple[str, ...]) -> dict[str, Any]:
    """Summaries that name the failing rows by key (a bounded sample); GX applies it per
    checkpoint run (`runner`), not per expectation."""
    return {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS,
            **({"unexpected_index_column_names": list(keys)} if keys else {})}


def key_expectations(keys: tuple[str, ...]) -> list[Expectation]:
    """Unique and not null, for a one-column or a compound key."""
    unique: Expectation = (
        gx.expectations.ExpectColumnValuesToBeUnique(column=keys[0]) if len(keys) == 1 else
        gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=list(keys)))
    return [unique, *(gx.expectations.ExpectColumnValuesToNotBeNull(column=key)
                      for key in keys)]


def mart(name: str, *expectations: Expectation) -> AssetChecks:
    """A public mart's checks: its key first, then `expectations`."""
    keys = MART_KEYS[name]
    return AssetChecks(name=name, table=name, keys=keys,
                       expectations=[*key_expectations(keys), *expectations])


def rows_query(sql: str, description: str) -> Expectation:
    """A check written in SQL: `sql` selects the offending rows from `checked` (the asset).

    GX substitutes `{batch}` with an already aliased subquery, which cannot be aliased again
    for a join; naming it once in a CTE lets the check's SQL read like ordinary SQL.
    """
    return gx.expectations.UnexpectedRowsExpectation(
        unexpected_rows_query=f"with checked as (select * from {{batch}}) {sql}",
        description=description)


def between(column: str, low: str | None = None, high: str | None = None) -> Expectation:
    """`column` within the run-time parameters `low`..`high` (nulls are not judged)."""
    return gx.expectations.ExpectColumnValuesToBeBetween(
        column=column, min_value=param(low) if low else None,
        max_value=param(high) if high else None)
