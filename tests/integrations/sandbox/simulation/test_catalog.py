"""The catalog: plans, prices per term, coupons, features per plan, MRR normalisation."""

from __future__ import annotations

import pytest

from integrations.sandbox.simulation.catalog import (
    COUPON_SPECS,
    FEATURES,
    KEY_FEATURE,
    PLAN_FEATURES,
    PLANS,
    PREMIUM_FEATURES,
    build_coupons,
    build_prices,
    discounted_monthly,
    find_price,
    monthly_amount,
    seats_for,
)
from integrations.sandbox.simulation.ids import IdFactory


@pytest.fixture(scope="module")
def prices() -> dict:
    return {p["id"]: p for p in build_prices(IdFactory(7), 1.6e9)}


@pytest.fixture(scope="module")
def coupons() -> dict:
    return {c["id"]: c for c in build_coupons(1.6e9)}


def test_each_plan_has_monthly_annual_and_quarterly_prices_and_annual_is_cheaper(
        prices: dict) -> None:
    for plan in PLANS:
        monthly = find_price(prices, plan, "month", 1)
        annual = find_price(prices, plan, "year", 1)
        quarterly = find_price(prices, plan, "month", 3)
        assert monthly and annual and quarterly
        assert annual["unit_amount"] < 12 * monthly["unit_amount"]
        assert quarterly["unit_amount"] == 3 * monthly["unit_amount"]
    assert find_price(prices, "starter", "week", 1) is not None
    assert find_price(prices, "starter", "month", 1, legacy=True) is not None
    assert len({p["id"] for p in prices.values()}) == len(prices)


def test_monthly_amount_normalises_every_interval(prices: dict) -> None:
    weekly = find_price(prices, "starter", "week", 1)
    quarterly = find_price(prices, "growth", "month", 3)
    annual = find_price(prices, "enterprise", "year", 1)
    assert monthly_amount(weekly, 10) == pytest.approx(669 * 10 * 52 / 12)
    assert monthly_amount(quarterly, 4) == pytest.approx(17700 * 4 / 3)
    assert monthly_amount(annual, 2) == pytest.approx(99000 * 2 / 12)


def test_discounts_lower_the_recurring_amount_except_one_time_credits(
        prices: dict, coupons: dict) -> None:
    monthly = find_price(prices, "growth", "month", 1)
    assert discounted_monthly(monthly, 10, coupons["NONPROFIT15"]) == pytest.approx(59000 * 0.85)
    assert discounted_monthly(monthly, 10, coupons["STARTUP50"]) == pytest.approx(59000 - 5000)
    assert discounted_monthly(monthly, 10, coupons["WELCOME20"]) == pytest.approx(59000)


def test_seats_for_reaches_the_target_with_the_fewest_seats(prices: dict, coupons: dict) -> None:
    annual = find_price(prices, "enterprise", "year", 1)
    for coupon in (None, coupons["ANNUAL10"], coupons["STARTUP50"]):
        seats = seats_for(annual, coupon, 10_000_000 / 12)
        assert 12 * discounted_monthly(annual, seats, coupon) >= 10_000_000
        assert 12 * discounted_monthly(annual, seats - 1, coupon) < 10_000_000


def test_features_per_plan_nest_and_gate_premium_features() -> None:
    assert set(PLAN_FEATURES["starter"]) < set(PLAN_FEATURES["growth"]) < set(FEATURES)
    assert PLAN_FEATURES["enterprise"] == FEATURES
    assert not set(PREMIUM_FEATURES) & set(PLAN_FEATURES["starter"])
    assert KEY_FEATURE in PLAN_FEATURES["starter"]


def test_coupons_cover_percent_and_amount_off_and_every_duration(coupons: dict) -> None:
    assert {c["duration"] for c in coupons.values()} == {"once", "repeating", "forever"}
    assert any(c["percent_off"] for c in coupons.values())
    assert any(c["amount_off"] and c["currency"] == "usd" for c in coupons.values())
    assert len(coupons) == len(COUPON_SPECS)
