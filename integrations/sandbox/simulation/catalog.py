"""What the simulated company sells: plans, per-seat prices, coupons and product features.

This is the one definition of features per plan; the product-usage vendor module imports it
to render usage events, so a feature added here shows up in both the simulation and the feed.

Prices are per seat. Every plan has monthly and annual prices (annual about two months
cheaper), a quarterly price (interval month, interval_count 3, three monthly prices), and the
two lower plans a weekly price and an older, cheaper "legacy" monthly price kept by customers
who signed up long ago. The odd intervals exist to exercise MRR normalisation downstream.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from integrations.sandbox.domain import Coupon, Price
from integrations.sandbox.simulation.clock import periods_per_year
from integrations.sandbox.simulation.ids import IdFactory

CURRENCY = "usd"
PLANS = ("starter", "growth", "enterprise")
PLAN_NAMES = {"starter": "Starter", "growth": "Growth", "enterprise": "Enterprise"}

FEATURES = ("dashboards", "reports", "integrations", "alerts", "automations", "api",
            "advanced_analytics", "sso", "audit_log")
PLAN_FEATURES: dict[str, tuple[str, ...]] = {
    "starter": ("dashboards", "reports", "integrations", "alerts"),
    "growth": ("dashboards", "reports", "integrations", "alerts", "automations", "api",
               "advanced_analytics"),
    "enterprise": FEATURES,
}
PREMIUM_FEATURES = tuple(f for f in FEATURES if f not in PLAN_FEATURES["starter"])
KEY_FEATURE = "integrations"
"""The feature whose use marks an account as activated (connecting its data)."""

FEATURE_ACTIONS_PER_USER = {
    "dashboards": 4.0, "reports": 1.5, "integrations": 0.4, "alerts": 0.8, "automations": 1.2,
    "api": 5.0, "advanced_analytics": 0.8, "sso": 0.7, "audit_log": 0.15,
}
"""Mean interactions per active user per day of an account that has adopted the feature."""

FEATURE_ADOPTION = {
    "dashboards": 0.20, "reports": 0.08, "integrations": 0.06, "alerts": 0.04,
    "automations": 0.03, "api": 0.02, "advanced_analytics": 0.02, "sso": 0.015,
    "audit_log": 0.01,
}
"""Daily chance that a fully healthy account starts using a feature it does not use yet."""

DAILY_ACTION_LIMIT_PER_SEAT: dict[str, int | None] = {
    "starter": 9, "growth": 28, "enterprise": None,
}
"""Interactions a plan allows per seat per day; beyond it they are blocked (limit hits)."""

ACTIONS_PER_EVENT = 20
"""Interactions one usage event stands for (rounded up per account, feature and day).

The simulation draws interactions — rates, plan limits and the upgrade pressure they build
are all in interactions — but the product reports a user's stretch of work in a feature (a
feature session), as product analytics usually do, not every click: the small company's
24 months are ~2.2M events (1.75M active user-days) rather than ~30M, which is what lets
the demo ingest them in seconds. Gated attempts are reported one by one (each is an
upgrade prompt shown).
"""
HOME_FEATURE = "dashboards"
"""Where every session lands: each active user of a day has at least one event, on this
feature when their interactions round to fewer events than there are active users (so daily
active users counted from events match the simulation's)."""

_MONTHLY = {"starter": 2900, "growth": 5900, "enterprise": 9900}
_ANNUAL = {"starter": 29000, "growth": 59000, "enterprise": 99000}
_WEEKLY = {"starter": 669, "growth": 1362}
_LEGACY_MONTHLY = {"starter": 2500, "growth": 4900}
PRODUCTS_SINCE_DAYS = 6 * 365
"""The catalog predates the simulated history by six years (legacy prices even more)."""


@dataclass(frozen=True)
class PriceSpec:
    """One price of the catalog before ids are assigned."""

    plan: str
    unit_amount: int
    interval: str
    interval_count: int
    legacy: bool = False


@dataclass(frozen=True)
class CouponSpec:
    """One coupon of the catalog; `purpose` says when the simulation hands it out."""

    id: str
    name: str
    percent_off: float | None
    amount_off: int | None
    duration: str
    duration_in_months: int | None
    purpose: str


PRICE_SPECS: tuple[PriceSpec, ...] = tuple(
    [PriceSpec(plan, _MONTHLY[plan], "month", 1) for plan in PLANS]
    + [PriceSpec(plan, _ANNUAL[plan], "year", 1) for plan in PLANS]
    + [PriceSpec(plan, _MONTHLY[plan] * 3, "month", 3) for plan in PLANS]
    + [PriceSpec(plan, amount, "week", 1) for plan, amount in _WEEKLY.items()]
    + [PriceSpec(plan, amount, "month", 1, legacy=True) for plan, amount in
       _LEGACY_MONTHLY.items()]
)

LEGACY_PRICE_KEYS = frozenset(key for key, spec in enumerate(PRICE_SPECS, start=1) if spec.legacy)

COUPON_SPECS: tuple[CouponSpec, ...] = (
    CouponSpec("WELCOME20", "Welcome: 20% off the first invoice", 20.0, None, "once", None,
               "signup"),
    CouponSpec("ANNUAL10", "10% off for the first year", 10.0, None, "repeating", 12, "signup"),
    CouponSpec("NONPROFIT15", "Non-profit discount 15%", 15.0, None, "forever", None, "signup"),
    CouponSpec("STARTUP50", "Startup program: $50 off for 3 months", None, 5000, "repeating", 3,
               "signup"),
    CouponSpec("MIGRATE500", "Migration credit $500", None, 50000, "once", None, "signup"),
    CouponSpec("RETAIN20", "Renewal offer: 20% off for 12 months", 20.0, None, "repeating", 12,
               "retention"),
)

def plan_rank(plan: str) -> int:
    """0 for starter, 1 for growth, 2 for enterprise."""
    return PLANS.index(plan)


def build_prices(ids: IdFactory, catalog_created_at: float) -> list[Price]:
    """Every price of the catalog, keys 1..n in `PRICE_SPECS` order."""
    prices: list[Price] = []
    for key, spec in enumerate(PRICE_SPECS, start=1):
        age_days = 400 if spec.legacy else 0
        prices.append(Price(
            key=key,
            id=ids.stripe("price", key, 24),
            product_id=ids.stripe("prod", PLANS.index(spec.plan) + 1, 14),
            product_name=PLAN_NAMES[spec.plan],
            plan=spec.plan,
            unit_amount=spec.unit_amount,
            currency=CURRENCY,
            interval=spec.interval,  # type: ignore[typeddict-item]
            interval_count=spec.interval_count,
            created_at=catalog_created_at - age_days * 86_400.0 + key * 60.0,
        ))
    return prices


def build_coupons(catalog_created_at: float) -> list[Coupon]:
    """Every coupon of the catalog, keys 1..n in `COUPON_SPECS` order."""
    return [
        Coupon(
            key=key,
            id=spec.id,
            name=spec.name,
            percent_off=spec.percent_off,
            amount_off=spec.amount_off,
            currency=CURRENCY if spec.amount_off is not None else None,
            duration=spec.duration,  # type: ignore[typeddict-item]
            duration_in_months=spec.duration_in_months,
            created_at=catalog_created_at + 3_600.0 + key * 60.0,
        )
        for key, spec in enumerate(COUPON_SPECS, start=1)
    ]


def find_price(prices: Mapping[str, dict[str, Any]], plan: str, interval: str,
               interval_count: int, legacy: bool = False) -> dict[str, Any] | None:
    """The catalog price for a plan and term, or None when the plan has no such term."""
    for price in prices.values():
        if (price["plan"], price["interval"], price["interval_count"]) == (
                plan, interval, interval_count) and is_legacy(price) == legacy:
            return price
    return None


def is_legacy(price: Mapping[str, Any]) -> bool:
    """True for the older, cheaper prices only long-standing customers keep."""
    return price["key"] in LEGACY_PRICE_KEYS


def invoices_per_month(price: Mapping[str, Any]) -> float:
    """How many invoices a price produces per month on average (weekly: 52/12)."""
    return periods_per_year(price["interval"], price["interval_count"]) / 12.0


def monthly_amount(price: Mapping[str, Any], quantity: int) -> float:
    """Per-month amount in cents of `quantity` seats at `price` (weekly × 52/12, yearly ÷ 12)."""
    return price["unit_amount"] * quantity * invoices_per_month(price)


def discounted_monthly(price: Mapping[str, Any], quantity: int,
                       coupon: Mapping[str, Any] | None) -> float:
    """Monthly amount after a recurring coupon (percent, or amount off per invoice).

    A `once` coupon is a one-time credit, not a change of the contracted price, so it does not
    lower the recurring amount.
    """
    amount = monthly_amount(price, quantity)
    if coupon is None or coupon["duration"] == "once":
        return amount
    if coupon["percent_off"] is not None:
        return amount * (1 - coupon["percent_off"] / 100.0)
    return float(max(0.0, amount - (coupon["amount_off"] or 0) * invoices_per_month(price)))


def seats_for(price: Mapping[str, Any], coupon: Mapping[str, Any] | None,
              monthly_cents: float) -> int:
    """Fewest seats (at least 1) whose discounted monthly amount reaches `monthly_cents`."""
    per_seat = monthly_amount(price, 1)
    off = 0.0
    if coupon is not None and coupon["duration"] != "once":
        if coupon["percent_off"] is not None:
            per_seat *= 1 - coupon["percent_off"] / 100.0
        else:
            off = (coupon["amount_off"] or 0) * invoices_per_month(price)
    return max(1, math.ceil((monthly_cents + off) / per_seat - 1e-9))
