"""Calendar arithmetic: month clamping and drift-free billing boundaries."""

from __future__ import annotations

from datetime import date

from integrations.sandbox.simulation.clock import (
    DAY_SECONDS,
    add_months,
    boundary,
    day_of,
    day_start,
    iso_day,
    period_days,
    periods_per_year,
)


def test_add_months_clamps_to_the_end_of_short_months() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2026, 10, 31), -24) == date(2024, 10, 31)
    assert add_months(date(2024, 11, 15), 14) == date(2026, 1, 15)


def test_day_conversions_round_trip_in_utc() -> None:
    ts = day_start(date(2025, 3, 9)) + 23 * 3600 + 59 * 60
    assert day_of(ts) == date(2025, 3, 9)
    assert iso_day(ts + 60) == "2025-03-10"
    assert day_start(date(1970, 1, 2)) == DAY_SECONDS


def test_monthly_boundaries_return_to_the_anchor_day_after_february() -> None:
    anchor = day_start(date(2025, 1, 31)) + 14 * 3600
    ends = [day_of(boundary(anchor, "month", 1, k)) for k in range(4)]
    assert ends == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)]
    assert boundary(anchor, "month", 1, 2) - day_start(date(2025, 3, 31)) == 14 * 3600


def test_quarterly_yearly_and_weekly_boundaries() -> None:
    anchor = day_start(date(2024, 2, 29))
    assert day_of(boundary(anchor, "month", 3, 1)) == date(2024, 5, 29)
    assert day_of(boundary(anchor, "year", 1, 1)) == date(2025, 2, 28)
    assert day_of(boundary(anchor, "year", 1, 4)) == date(2028, 2, 29)
    assert boundary(anchor, "week", 1, 3) - anchor == 21 * DAY_SECONDS


def test_period_lengths_follow_the_mrr_normalisation() -> None:
    assert periods_per_year("week", 1) == 52
    assert periods_per_year("month", 3) == 4
    assert periods_per_year("year", 1) == 1
    assert round(period_days("month", 1), 2) == 30.44
