"""Calendar arithmetic for the simulation: days as POSIX seconds and billing period boundaries.

Record times are POSIX seconds (float, UTC) as `domain` requires. Period boundaries are always
computed from the subscription's anchor (`boundary(anchor, ..., k)`), never by adding a
month to the previous boundary, so a subscription anchored on the 31st comes back to the 31st
after February instead of drifting to the 28th for ever, as Stripe does.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date

DAY_SECONDS = 86_400
HOUR_SECONDS = 3_600
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAYS_PER_PERIOD = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}


def day_start(day: date) -> float:
    """POSIX seconds of midnight UTC that starts `day`."""
    return float((day.toordinal() - _EPOCH_ORDINAL) * DAY_SECONDS)


def ordinal_of(ts: float) -> int:
    """The proleptic ordinal (`date.toordinal`) of the UTC day containing `ts`."""
    return int(ts // DAY_SECONDS) + _EPOCH_ORDINAL


def day_of(ts: float) -> date:
    """The UTC day containing `ts`."""
    return date.fromordinal(ordinal_of(ts))


def iso_day(ts: float) -> str:
    """`YYYY-MM-DD` of the UTC day containing `ts`."""
    return day_of(ts).isoformat()


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, the day of month clamped to the target month's length."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def boundary(anchor: float, interval: str, count: int, k: int) -> float:
    """The `k`-th period boundary of a price billed every `count` `interval`s (k=0: anchor)."""
    if interval == "day":
        return anchor + k * count * DAY_SECONDS
    if interval == "week":
        return anchor + k * count * 7 * DAY_SECONDS
    months = k * count * (12 if interval == "year" else 1)
    anchor_day = day_of(anchor)
    return day_start(add_months(anchor_day, months)) + (anchor - day_start(anchor_day))


def period_days(interval: str, count: int) -> float:
    """The mean length in days of one billing period (for scaling per-period probabilities)."""
    return _DAYS_PER_PERIOD[interval] * count


def periods_per_year(interval: str, count: int) -> float:
    """How many periods of `count` `interval`s fit in a year (52 weeks, 12 months)."""
    per_year = {"day": 365.0, "week": 52.0, "month": 12.0, "year": 1.0}[interval]
    return per_year / count
