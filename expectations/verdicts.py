"""A validation's outcome as plain data: per domain suite, pass/fail and what failed.

GX results are large, nested and hold database values (dates, decimals); the flow, the
artifact, the warehouse record and the Slack message need a short, JSON-ready account:
suite, asset, expectation, column, observed value and a small sample of the bad rows.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import asdict, dataclass, field
from typing import Any

from expectations.contract import SAMPLE_ROWS


@dataclass(frozen=True)
class Failure:
    suite: str
    asset: str
    expectation: str
    column: str
    observed: str
    sample: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class SuiteVerdict:
    suite: str
    success: bool
    evaluated: int
    failures: list[Failure] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def plain(value: Any) -> Any:
    """A JSON-ready copy of a database value (dates and decimals as text)."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dt.date | dt.datetime | dt.time | decimal.Decimal):
        return str(value)
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)


def raised_message(info: dict[str, Any]) -> str | None:
    """The first line of an exception GX caught; metric-level errors are nested per metric."""
    if info.get("raised_exception"):
        text = str(info.get("exception_message") or "error").strip()
        return text.splitlines()[0][:300]
    nested = (raised_message(value) for value in info.values() if isinstance(value, dict))
    return next((message for message in nested if message), None)


def failure_from_result(suite: str, asset: str, result: Any) -> Failure:
    """A Failure from one failed GX ExpectationValidationResult."""
    config = result.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column") or ", ".join(kwargs.get("column_list") or [])
    name = config.description or config.type
    details = result.result or {}
    message = raised_message(result.exception_info or {})
    if message:
        return Failure(suite, asset, name, column, f"error: {message}")
    if "observed_value" in details:
        observed = str(plain(details["observed_value"]))
        if config.type == "unexpected_rows_expectation":
            observed = f"{observed} unexpected rows"
    else:
        observed = (f"{details.get('unexpected_count', '?')} of "
                    f"{details.get('element_count', '?')} rows unexpected")
    sample = (details.get("details", {}).get("unexpected_rows")
              or details.get("partial_unexpected_index_list")
              or details.get("partial_unexpected_list") or [])
    return Failure(suite, asset, name, column, observed, plain(list(sample)[:SAMPLE_ROWS]))
