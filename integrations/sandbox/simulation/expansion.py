"""Expansion: accounts that outgrow their seats or plan get an expansion deal, often won.

Candidates come from `dynamics.expansion_candidates` (high seat use with growing usage, or
pressure from gated features and plan limits). The deal opens at once and closes one to five
weeks later; a win changes the subscription mid-period (prorated, see `billing.change`).
"""

from __future__ import annotations

import math

from integrations.sandbox.simulation import billing, crm, dynamics
from integrations.sandbox.simulation.catalog import (
    PLAN_NAMES,
    PLANS,
    discounted_monthly,
    find_price,
    plan_rank,
)
from integrations.sandbox.simulation.clock import DAY_SECONDS, HOUR_SECONDS, iso_day
from integrations.sandbox.simulation.context import DayContext
from integrations.sandbox.simulation.state import AccountState


def daily(ctx: DayContext) -> None:
    """Open the expansion deals of this week's candidates that are looked at today."""
    for kind, idx in dynamics.expansion_candidates(ctx):
        open_expansion(ctx, ctx.state.accounts[idx], kind)


def _proposal(ctx: DayContext, account: AccountState, kind: str) -> tuple[str, int, str]:
    """(price id, seats, deal name) the customer asks for."""
    assert account.price_id is not None and account.subscription is not None
    price = ctx.state.prices[account.price_id]
    seats = account.subscription["items"][0]["quantity"]
    name = account.record["name"]
    if kind == "upgrade":
        plan = PLANS[plan_rank(price["plan"]) + 1]
        upgraded = find_price(ctx.state.prices, plan, price["interval"], price["interval_count"])
        if upgraded is not None:
            return upgraded["id"], seats, f"{name} - Upgrade to {PLAN_NAMES[plan]}"
    peak = int(ctx.state.arrays.ring[account.idx].max())
    wanted = max(seats * ctx.rng.uniform(1.1, 1.35), peak * 1.15)
    extra = max(1, math.ceil(wanted) - seats)
    return price["id"], seats + extra, f"{name} - Expansion (+{extra} seats)"


def open_expansion(ctx: DayContext, account: AccountState, kind: str) -> None:
    """Open an expansion deal and plan its close."""
    assert account.price_id is not None and account.subscription is not None
    price_id, seats, name = _proposal(ctx, account, kind)
    coupon = ctx.state.coupons.get(account.coupon_id or "")
    now = 12 * discounted_monthly(ctx.state.prices[account.price_id],
                                  account.subscription["items"][0]["quantity"], coupon)
    later = 12 * discounted_monthly(ctx.state.prices[price_id], seats, coupon)
    ts = ctx.business_time()
    account.expansion_deal = crm.new_deal(ctx, account, "expansion", name,
                                          max(0, round(later - now)),
                                          iso_day(ts + 30 * DAY_SECONDS), ts)
    account.expansion_plan = (price_id, seats)
    ctx.state.arrays.expansion_open[account.idx] = True
    close_at = (ctx.start_ts + ctx.rng.randint(7, 35) * DAY_SECONDS
                + ctx.rng.randrange(13 * HOUR_SECONDS, 22 * HOUR_SECONDS))
    ctx.schedule(account, close_at, "expansion_close", account.expansion_deal["key"])


def close_expansion(ctx: DayContext, account: AccountState, when: float, deal_key: int) -> None:
    """The expansion deal closes; a win changes the subscription now."""
    deal, plan = account.expansion_deal, account.expansion_plan
    if deal is None or plan is None or deal["key"] != deal_key:
        return
    arrays = ctx.state.arrays
    account.expansion_deal, account.expansion_plan = None, None
    arrays.expansion_open[account.idx] = False
    live = bool(arrays.paying[account.idx] and not arrays.cancel_pending[account.idx]
                and not arrays.dunning[account.idx])
    won = live and ctx.rng.random() < 0.55 + 0.35 * dynamics.account_health(arrays, account.idx)
    crm.close_deal(ctx, deal, won=won, ts=when)
    if not won:
        return
    price_id, seats = plan
    account.pending_change = None
    billing.change(ctx, account, when, price_id, seats)
    arrays.seats[account.idx] = seats
    arrays.plan[account.idx] = plan_rank(ctx.state.prices[price_id]["plan"])
    crm.sync_contract(ctx, account, when)
