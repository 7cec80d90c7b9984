"""The life of an account: becoming a customer, paying, churning, and sometimes coming back.

New customers arrive at a fixed daily rate (see `presets`); half the company's accounts are
customers already when the history starts, with tenures spread over earlier years. A contract
is drawn per segment so ARR falls in the segment's band (enterprise at or above 100k USD).
Churn happens at a period end after notice given at the renewal check (`renewals`), or when
dunning runs out (`collect`). Churned accounts may return months later, more often when
they left because a card failed than when they chose to leave.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from integrations.sandbox.simulation import billing, churn, crm, dynamics, people, renewals
from integrations.sandbox.simulation.billing import Contract
from integrations.sandbox.simulation.catalog import (
    COUPON_SPECS,
    FEATURE_ADOPTION,
    FEATURES,
    PLAN_FEATURES,
    discounted_monthly,
    find_price,
    plan_rank,
    seats_for,
)
from integrations.sandbox.simulation.clock import DAY_SECONDS, HOUR_SECONDS, iso_day, ordinal_of
from integrations.sandbox.simulation.context import DayContext
from integrations.sandbox.simulation.names import company_identity
from integrations.sandbox.simulation.presets import (
    MAX_PRIOR_TENURE_DAYS,
    PROFILES,
    SEGMENT_MIX,
    SEGMENTS,
    initial_customers,
    signups_per_day,
)
from integrations.sandbox.simulation.state import CHURN_INVOLUNTARY, CHURN_VOLUNTARY, AccountState

LEGACY_AFTER_DAYS = 2 * 365
"""Customers older than this at the start may still pay a legacy price."""
MEAN_PRIOR_TENURE_DAYS = 600
_COUPON_DURATION = {spec.id: spec.duration for spec in COUPON_SPECS}
_MATURE_ADOPTION = {"dashboards": 0.95, "reports": 0.8, "integrations": 0.75, "alerts": 0.6,
                    "automations": 0.5, "api": 0.35, "advanced_analytics": 0.4, "sso": 0.5,
                    "audit_log": 0.3}


def _pick(ctx: DayContext, mix: tuple[tuple[Any, float], ...]) -> Any:
    return ctx.rng.choices([value for value, _ in mix], weights=[w for _, w in mix])[0]


def choose_contract(ctx: DayContext, segment: str, long_standing: bool) -> Contract:
    """Plan, term, coupon, payment method and seats for a customer of `segment`."""
    profile, rng, prices = PROFILES[segment], ctx.rng, ctx.state.prices
    plan = _pick(ctx, profile.plans)
    interval, count = _pick(ctx, profile.terms)
    price = find_price(prices, plan, interval, count) or find_price(prices, plan, "month", 1)
    assert price is not None
    if long_standing and rng.random() < 0.5:
        price = find_price(prices, plan, interval, count, legacy=True) or price
    coupon_id = None
    for candidate, chance in profile.signup_coupons:
        fits = (not long_standing or _COUPON_DURATION[candidate] == "forever") and (
            candidate != "ANNUAL10" or interval == "year")
        if fits and rng.random() < chance:
            coupon_id = candidate
            break
    manual = price["interval"] != "week" and rng.random() < profile.send_invoice_share
    target = math.exp(rng.gauss(math.log(profile.arr_median_usd), profile.arr_sigma))
    target = min(max(target, profile.arr_min_usd), profile.arr_max_usd) * 100
    coupon = ctx.state.coupons[coupon_id] if coupon_id else None
    seats = min(max(seats_for(price, coupon, target / 12),
                    seats_for(price, coupon, profile.arr_min_usd * 100 / 12)),
                max(1, seats_for(price, coupon, profile.arr_max_usd * 100 / 12) - 1))
    return Contract(price["id"], seats, coupon_id,
                    "send_invoice" if manual else "charge_automatically")


def _init_traits(ctx: DayContext, account: AccountState, contract: Contract, since: float,
                 existing: bool) -> None:
    """Hidden traits and starting state of a new account's numeric columns."""
    arrays, rng, idx = ctx.state.arrays, ctx.rng, account.idx
    segment = SEGMENTS.index(account.record["segment"])
    arrays.segment[idx] = segment
    arrays.mu[idx] = rng.gauss(1.1, 0.6) + (0.2 if segment == 0 else 0.0)
    arrays.x[idx] = arrays.mu[idx] + (rng.gauss(0, 0.45) if existing else rng.gauss(-0.3, 0.2))
    arrays.intensity[idx] = math.exp(rng.gauss(0, 0.35))
    arrays.card_risk[idx] = math.exp(rng.gauss(math.log(0.035), 0.6))
    arrays.growth[idx] = rng.gauss(0.0002, 0.0003)
    arrays.signup_day[idx] = ordinal_of(since)
    _start_paying(ctx, account, contract)
    if existing:
        health = dynamics.account_health(arrays, idx)
        plan = ctx.state.prices[contract.price_id]["plan"]
        arrays.adopted[idx] = [
            rng.random() < _MATURE_ADOPTION[f] * (0.5 + 0.5 * health)
            * (1.0 if f in PLAN_FEATURES[plan] else 0.3) for f in FEATURES]
    else:
        arrays.adopted[idx] = [rng.random() < FEATURE_ADOPTION[f] * 2 for f in FEATURES]


def _start_paying(ctx: DayContext, account: AccountState, contract: Contract) -> None:
    arrays, idx = ctx.state.arrays, account.idx
    arrays.seats[idx] = contract.seats
    arrays.plan[idx] = plan_rank(ctx.state.prices[contract.price_id]["plan"])
    arrays.demand[idx] = contract.seats * ctx.rng.uniform(0.75, 1.12)
    arrays.paying[idx] = True
    arrays.history[idx] = 0
    arrays.churn_kind[idx] = 0
    arrays.cancel_pending[idx] = False
    arrays.dunning[idx] = False
    arrays.expansion_open[idx] = False


def new_account(ctx: DayContext, since: float, existing: bool) -> AccountState:
    """Create a customer whose first subscription started at `since`, with all its records."""
    state, rng, ids = ctx.state, ctx.rng, ctx.ids
    key = state.next_key("account")
    idx = state.arrays.append()
    segment = rng.choices(SEGMENTS, weights=SEGMENT_MIX)[0]
    profile = PROFILES[segment]
    identity = company_identity(ids, key, rng)
    long_standing = existing and since < ctx.start_ts - LEGACY_AFTER_DAYS * DAY_SECONDS
    contract = choose_contract(ctx, segment, long_standing)
    price = state.prices[contract.price_id]
    period_index, period = billing.period_containing(price, since, max(since, ctx.start_ts))
    created_at = since - rng.randrange(14, 90) * DAY_SECONDS
    record = {
        "key": key, "name": identity.name, "domain": identity.domain,
        "billing_domain": identity.billing_domain, "industry": identity.industry,
        "employees": max(3, round(math.exp(rng.gauss(math.log(profile.employees_median),
                                                     0.6)))),
        "country": identity.country, "segment": segment,
        "owner_key": people.assign_csm(state, profile.csm_team),
        "onboarding_owner_key": people.assign_csm(state, "onboarding"),
        "lifecycle_stage": "customer", "customer_since": iso_day(since),
        "created_at": created_at, "updated_at": period[0],
        "workspace_id": ids.workspace(key), "hubspot_company_id": ids.hubspot("company", key),
        "salesforce_account_id": ids.salesforce("001", key),
        "stripe_customer_id": ids.stripe("cus", key, 14),
        "zendesk_organization_id": ids.zendesk("organization", key),
        "stripe_id_in_crm": rng.random() < 0.92,
        "zendesk_external_id": ids.workspace(key) if rng.random() < 0.88 else None,
        "currency": price["currency"],
        "billing_email": f"{rng.choice(('billing', 'finance', 'ap'))}@{identity.billing_domain}",
        "plan": price["plan"], "seats": contract.seats, "renewal_date": iso_day(period[1]),
    }
    account = AccountState(idx=idx, record=record, invoice_prefix=ids.invoice_prefix(key))
    state.accounts.append(account)
    _init_traits(ctx, account, contract, since, existing)
    ctx.emit("account", record, record["updated_at"])
    known_since = created_at + rng.randrange(1, 10) * DAY_SECONDS
    people.add_roster(ctx, account, known_since if existing else since, known_since,
                      engaged_before=ctx.start_ts if existing else None)
    amount = round(12 * discounted_monthly(price, contract.seats,
                                           state.coupons.get(contract.coupon_id or "")))
    crm.new_deal(ctx, account, "new_business", f"{identity.name} - New Business", amount,
                 iso_day(since), since, created_at + HOUR_SECONDS, stage="closed_won")
    billing.start(ctx, account, contract, since, max(since, ctx.start_ts))
    assert account.period_index == period_index
    renewals.schedule_period(ctx, account)
    return account


def bootstrap_customers(ctx: DayContext) -> None:
    """The customers the company already has on the first simulated day."""
    for _ in range(initial_customers(ctx.state.accounts_target)):
        tenure = min(MAX_PRIOR_TENURE_DAYS, 14 + int(ctx.rng.expovariate(
            1 / MEAN_PRIOR_TENURE_DAYS)))
        since = ctx.start_ts - tenure * DAY_SECONDS + ctx.rng.randrange(13, 22) * HOUR_SECONDS
        new_account(ctx, since, existing=True)


def signups(ctx: DayContext) -> None:
    """Today's new customers."""
    for _ in range(int(ctx.draws.poisson(signups_per_day(ctx.state.accounts_target)))):
        new_account(ctx, ctx.business_time(), existing=False)


def collect(ctx: DayContext, account: AccountState, when: float, invoice_id: str) -> None:
    """A scheduled payment attempt; the last failed retry ends the subscription."""
    if billing.attempt_payment(ctx, account, when, invoice_id) == "exhausted":
        billing.end(ctx, account, when, involuntary=True)
        churn.end_customer(ctx, account, when, CHURN_INVOLUNTARY)


def reactivations(ctx: DayContext) -> None:
    """Former customers who subscribe again today."""
    arrays, n = ctx.state.arrays, ctx.state.arrays.n
    since = ctx.ordinal - arrays.churn_day[:n]
    involuntary = arrays.churn_kind[:n] == CHURN_INVOLUNTARY
    voluntary = arrays.churn_kind[:n] == CHURN_VOLUNTARY
    chance = np.where(involuntary, np.where(since < 180, 0.004, 0.0005), 0.0)
    chance = np.where(voluntary & (since >= 60), 0.0006, chance)
    returning = ~arrays.paying[:n] & (ctx.draws.random(n) < chance)
    for idx in np.flatnonzero(returning):
        reactivate(ctx, ctx.state.accounts[idx])


def reactivate(ctx: DayContext, account: AccountState) -> None:
    """A former customer subscribes again: a new subscription, a win-back deal."""
    state, ts = ctx.state, ctx.business_time()
    contract = choose_contract(ctx, account.record["segment"], long_standing=False)
    price = state.prices[contract.price_id]
    arrays = state.arrays
    arrays.x[account.idx] = arrays.mu[account.idx] - 0.2
    _start_paying(ctx, account, contract)
    if not account.contacts:
        people.add_roster(ctx, account, ts, ts)
    amount = round(12 * discounted_monthly(price, contract.seats,
                                           state.coupons.get(contract.coupon_id or "")))
    crm.new_deal(ctx, account, "new_business", f"{account.record['name']} - Win-back", amount,
                 iso_day(ts), ts, ts - ctx.rng.randrange(7, 40) * DAY_SECONDS,
                 stage="closed_won")
    billing.start(ctx, account, contract, ts, ts)
    crm.sync_contract(ctx, account, ts)
    renewals.schedule_period(ctx, account)
    state.count("reactivated")
