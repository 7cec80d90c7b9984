"""Period ends: the renewal check before them, the roll at them, and annual renewal deals.

Some time before each period end (30–60 days for annual terms, a fraction of the period for
shorter ones) the customer decides: give notice (churn, with a probability from the observed
signals, scaled to the term's length), shrink seats that go unused, drop to a lower plan whose
extra features nobody uses, or simply renew. CSMs offer a retention discount to accounts that
look at risk, which sometimes saves them. Annual terms get a renewal deal 120 days ahead,
closed won or lost at the period end. At renewal the account may also move segment (with a
hysteresis margin) and so change CSM.
"""

from __future__ import annotations

import math

from integrations.sandbox.simulation import billing, churn, crm, dynamics, people
from integrations.sandbox.simulation.catalog import (
    FEATURES,
    PLAN_FEATURES,
    PLANS,
    discounted_monthly,
    find_price,
    plan_rank,
    seats_for,
)
from integrations.sandbox.simulation.clock import DAY_SECONDS, iso_day, period_days
from integrations.sandbox.simulation.context import DayContext
from integrations.sandbox.simulation.presets import (
    ENTERPRISE_MIN_ARR_CENTS,
    PROFILES,
    RESEGMENT_MARGIN,
    SEGMENTS,
    SMB_MAX_ARR_CENTS,
)
from integrations.sandbox.simulation.state import CHURN_VOLUNTARY, AccountState

RENEWAL_DEAL_LEAD_DAYS = 120
DECISION_NOISE = 0.5
"""Spread (log-odds) of a customer's own judgement around what the signals say."""
SAVE_OFFER_COUPON = "RETAIN20"
SAVE_OFFER_THRESHOLD = 0.25
SAVE_OFFER_CHANCE = 0.35
SAVE_OFFER_EFFECT = 0.6
CONTRACTION_CHANCE = 0.5
DOWNGRADE_CHANCE = 0.3


def _is_current(account: AccountState, sub_id: str, period_index: int) -> bool:
    sub = account.subscription
    return (sub is not None and sub["id"] == sub_id and sub["status"] != "canceled"
            and account.period_index == period_index)


def schedule_period(ctx: DayContext, account: AccountState) -> None:
    """Queue the current period's renewal check, renewal deal (annual) and roll."""
    sub = account.subscription
    assert sub is not None and account.price_id is not None
    price = ctx.state.prices[account.price_id]
    end, index = sub["current_period_end"], account.period_index
    if price["interval"] == "year":
        lead = ctx.rng.uniform(30, 60)
        ctx.schedule(account, end - RENEWAL_DEAL_LEAD_DAYS * DAY_SECONDS, "renewal_deal",
                     sub["id"], index)
    else:
        lead = period_days(price["interval"], price["interval_count"]) * ctx.rng.uniform(0.1, 0.35)
    ctx.schedule(account, end - lead * DAY_SECONDS, "renewal_check", sub["id"], index)
    ctx.schedule(account, end, "roll", sub["id"], index)


def open_renewal_deal(ctx: DayContext, account: AccountState, when: float, sub_id: str,
                      period_index: int) -> None:
    """An annual customer's renewal enters the pipeline ~120 days ahead."""
    if not _is_current(account, sub_id, period_index) or account.renewal_deal is not None:
        return
    sub = account.subscription
    assert sub is not None
    renewal_day = iso_day(sub["current_period_end"])
    when = max(when, ctx.business_time())
    account.renewal_deal = crm.new_deal(
        ctx, account, "renewal", f"{account.record['name']} - Renewal {renewal_day[:4]}",
        crm.arr_cents(ctx.state, account), renewal_day, when)


def _seat_floor(ctx: DayContext, account: AccountState, price_id: str) -> int:
    """Fewest seats the account may shrink to: enterprise contracts keep ARR ≥ the threshold."""
    if account.record["segment"] != "enterprise":
        return 1
    coupon = ctx.state.coupons.get(account.coupon_id or "")
    return seats_for(ctx.state.prices[price_id], coupon, ENTERPRISE_MIN_ARR_CENTS / 12)


def renewal_check(ctx: DayContext, account: AccountState, when: float, sub_id: str,
                  period_index: int) -> None:
    """The customer's decision before the period ends: leave, shrink, or renew as is."""
    arrays = ctx.state.arrays
    if not _is_current(account, sub_id, period_index) or arrays.cancel_pending[account.idx]:
        return
    assert account.price_id is not None
    price = ctx.state.prices[account.price_id]
    signals, row, logit = dynamics.outlook_of(ctx, account.idx)
    term_days = period_days(price["interval"], price["interval_count"])
    truth = dynamics.period_probability(dynamics.probability(logit), term_days)
    ctx.truth.append((account.key, "renewal_churn_probability", ctx.day.isoformat(), truth))
    judged = logit + ctx.rng.gauss(0.0, DECISION_NOISE)
    chance = dynamics.period_probability(dynamics.probability(judged), term_days)
    if chance > SAVE_OFFER_THRESHOLD and _offer_discount(ctx, account, when):
        chance *= SAVE_OFFER_EFFECT
    if ctx.rng.random() < chance:
        billing.request_cancel(ctx, account, when)
        return
    _plan_contraction(ctx, account, float(signals.seat_utilisation[row]),
                      int(signals.peak_active[row]))


def _offer_discount(ctx: DayContext, account: AccountState, when: float) -> bool:
    """A CSM's save offer to an at-risk renewal (not for tech-touch SMB, nor on top of a
    running discount)."""
    if account.record["segment"] == "smb" or account.coupon_id is not None:
        return False
    if ctx.rng.random() >= SAVE_OFFER_CHANCE:
        return False
    assert account.price_id is not None and account.subscription is not None
    seats = account.subscription["items"][0]["quantity"]
    coupon = ctx.state.coupons[SAVE_OFFER_COUPON]
    offered = 12 * discounted_monthly(ctx.state.prices[account.price_id], seats, coupon)
    if account.record["segment"] == "enterprise" and offered < ENTERPRISE_MIN_ARR_CENTS:
        return False
    billing.add_discount(ctx, account, when, SAVE_OFFER_COUPON)
    return True


def _plan_contraction(ctx: DayContext, account: AccountState, utilisation: float,
                      peak_active: int) -> None:
    """Agree fewer seats or a lower plan for the next period when they go unused."""
    assert account.price_id is not None and account.subscription is not None
    rng, arrays = ctx.rng, ctx.state.arrays
    price = ctx.state.prices[account.price_id]
    seats = account.subscription["items"][0]["quantity"]
    target_price = price
    plan = price["plan"]
    if plan != "starter" and account.record["segment"] != "enterprise":
        lower = PLANS[plan_rank(plan) - 1]
        extras = [FEATURES.index(f) for f in PLAN_FEATURES[plan] if f not in PLAN_FEATURES[lower]]
        unused = not arrays.adopted[account.idx, extras].any()
        health = dynamics.account_health(arrays, account.idx)
        if unused and health < 0.55 and rng.random() < DOWNGRADE_CHANCE:
            target_price = find_price(ctx.state.prices, lower, price["interval"],
                                      price["interval_count"]) or price
    target_seats = seats
    if utilisation < dynamics.CONTRACTION_UTILISATION and rng.random() < CONTRACTION_CHANCE:
        target_seats = max(1, math.ceil(max(peak_active, 1) * rng.uniform(1.05, 1.25)))
    target_seats = min(seats, max(target_seats, _seat_floor(ctx, account, target_price["id"])))
    if (target_price["id"], target_seats) != (price["id"], seats):
        account.pending_change = (target_price["id"], target_seats)


def roll(ctx: DayContext, account: AccountState, when: float, sub_id: str,
         period_index: int) -> None:
    """The period ends: the subscription ends after notice, or renews into the next period."""
    if not _is_current(account, sub_id, period_index):
        return
    sub = account.subscription
    assert sub is not None
    if sub["cancel_at_period_end"]:
        billing.end(ctx, account, when, involuntary=False)
        churn.end_customer(ctx, account, when, CHURN_VOLUNTARY)
        return
    billing.renew(ctx, account, when)
    assert account.price_id is not None and account.subscription is not None
    arrays = ctx.state.arrays
    arrays.seats[account.idx] = account.subscription["items"][0]["quantity"]
    arrays.plan[account.idx] = plan_rank(ctx.state.prices[account.price_id]["plan"])
    if account.renewal_deal is not None:
        crm.close_deal(ctx, account.renewal_deal, won=True, ts=when,
                       amount=crm.arr_cents(ctx.state, account))
        account.renewal_deal = None
    _resegment(ctx, account, when)
    crm.sync_contract(ctx, account, when)
    schedule_period(ctx, account)


def _resegment(ctx: DayContext, account: AccountState, ts: float) -> None:
    """Move the account to the segment its ARR now belongs to (with a hysteresis margin)."""
    arr = crm.arr_cents(ctx.state, account)
    segment = account.record["segment"]
    moved = segment
    if segment == "smb" and arr >= SMB_MAX_ARR_CENTS * (1 + RESEGMENT_MARGIN):
        moved = "mid_market"
    elif segment == "mid_market" and arr < SMB_MAX_ARR_CENTS * (1 - RESEGMENT_MARGIN):
        moved = "smb"
    elif segment == "mid_market" and arr >= ENTERPRISE_MIN_ARR_CENTS * (1 + RESEGMENT_MARGIN):
        moved = "enterprise"
    if moved == segment:
        return
    ctx.state.arrays.segment[account.idx] = SEGMENTS.index(moved)
    owner = people.assign_csm(ctx.state, PROFILES[moved].csm_team)
    crm.update_account(ctx, account, ts, segment=moved, owner_key=owner)
