"""Company sizes and the per-segment profile of a typical customer.

Sizes count accounts ever (customers at the start plus sign-ups over a nominal two-year
history). Sign-ups arrive at a fixed daily rate derived from the size alone, never from the
requested history length: a world generated to day D and stepped on must stay identical to one
generated directly to the later day, so nothing may depend on where the run will end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SIZES: dict[str, int] = {"tiny": 60, "small": 200, "medium": 5_000, "large": 100_000}
"""Accounts ever per named size; `resolve_size` also accepts an explicit count ("1200")."""

INITIAL_CUSTOMER_SHARE = 0.5
NOMINAL_HISTORY_DAYS = 730
MAX_PRIOR_TENURE_DAYS = 6 * 365
SEGMENTS = ("enterprise", "mid_market", "smb")
SEGMENT_MIX = (0.05, 0.25, 0.70)

ENTERPRISE_MIN_ARR_CENTS = 100_000_00
"""ARR at or above which an account is enterprise (and below which one never contracts)."""
SMB_MAX_ARR_CENTS = 12_000_00
"""ARR below which an account is SMB."""
RESEGMENT_MARGIN = 0.15
"""Hysteresis: an account changes segment at renewal only when 15 % past a threshold."""


@dataclass(frozen=True)
class SegmentProfile:
    """How customers of one segment buy, staff, use support and churn."""

    arr_median_usd: float
    arr_sigma: float
    arr_min_usd: float
    arr_max_usd: float
    plans: tuple[tuple[str, float], ...]
    terms: tuple[tuple[tuple[str, int], float], ...]
    employees_median: int
    end_users: tuple[int, int]
    champions: int
    procurement: bool
    tickets_per_month: float
    csm_touches_per_month: float
    churn_logit: float
    """Log-odds of churning within a year for an account with neutral signals."""
    send_invoice_share: float
    signup_coupons: tuple[tuple[str, float], ...]
    accounts_per_csm: int
    csm_team: str


PROFILES: dict[str, SegmentProfile] = {
    "enterprise": SegmentProfile(
        arr_median_usd=190_000, arr_sigma=0.5, arr_min_usd=106_000, arr_max_usd=1_500_000,
        plans=(("enterprise", 0.9), ("growth", 0.1)),
        terms=((("year", 1), 0.85), (("month", 3), 0.15)),
        employees_median=6_000, end_users=(6, 11), champions=2, procurement=True,
        tickets_per_month=3.0, csm_touches_per_month=4.0, churn_logit=-3.8,
        send_invoice_share=0.5, signup_coupons=(("MIGRATE500", 0.08),),
        accounts_per_csm=10, csm_team="enterprise",
    ),
    "mid_market": SegmentProfile(
        arr_median_usd=34_000, arr_sigma=0.5, arr_min_usd=13_500, arr_max_usd=92_000,
        plans=(("growth", 0.7), ("enterprise", 0.1), ("starter", 0.2)),
        terms=((("year", 1), 0.6), (("month", 1), 0.3), (("month", 3), 0.1)),
        employees_median=700, end_users=(3, 6), champions=1, procurement=True,
        tickets_per_month=1.2, csm_touches_per_month=1.0, churn_logit=-3.2,
        send_invoice_share=0.15,
        signup_coupons=(("ANNUAL10", 0.06), ("MIGRATE500", 0.05), ("NONPROFIT15", 0.02)),
        accounts_per_csm=70, csm_team="mid_market",
    ),
    "smb": SegmentProfile(
        arr_median_usd=3_600, arr_sigma=0.7, arr_min_usd=600, arr_max_usd=11_000,
        plans=(("starter", 0.75), ("growth", 0.25)),
        terms=((("month", 1), 0.72), (("year", 1), 0.2), (("month", 3), 0.04),
               (("week", 1), 0.04)),
        employees_median=45, end_users=(1, 3), champions=1, procurement=False,
        tickets_per_month=0.35, csm_touches_per_month=0.25, churn_logit=-2.6,
        send_invoice_share=0.0,
        signup_coupons=(("WELCOME20", 0.08), ("STARTUP50", 0.04), ("NONPROFIT15", 0.03)),
        accounts_per_csm=600, csm_team="smb",
    ),
}


def resolve_size(size: str) -> int:
    """Accounts ever for a named size, or for an explicit positive count such as "1200"."""
    if size in SIZES:
        return SIZES[size]
    if size.isdigit() and int(size) > 0:
        return int(size)
    raise ValueError(f"unknown size {size!r}: use one of {', '.join(SIZES)} or a count")


def initial_customers(accounts: int) -> int:
    """How many accounts are already customers on the first simulated day."""
    return max(1, round(accounts * INITIAL_CUSTOMER_SHARE))


def signups_per_day(accounts: int) -> float:
    """Mean daily sign-ups, so the nominal history ends near `accounts` accounts ever."""
    return (accounts - initial_customers(accounts)) / NOMINAL_HISTORY_DAYS


def csm_headcount(accounts: int) -> dict[str, int]:
    """CS team sizes for a company of `accounts` accounts: dedicated, pooled, tech touch."""
    counts = {
        segment: max(1, math.ceil(accounts * share / PROFILES[segment].accounts_per_csm))
        for segment, share in zip(SEGMENTS, SEGMENT_MIX, strict=True)
    }
    counts["enterprise"] = max(2, counts["enterprise"])
    counts["onboarding"] = max(1, math.ceil(accounts / 400))
    counts["lead"] = 1
    return counts
