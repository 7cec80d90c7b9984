"""The causal model: a latent health per account, the signals it shows, and what they cause.

Each account has a latent health `x` (log-odds; `health = sigmoid(x)`) that reverts slowly
to its own mean `mu` with daily noise, and takes shocks: a champion leaving (and a lower mean
until someone replaces them), a bad-bug period, a failed payment, bad support experiences;
CSM engagement lifts it a little. Everything observable is drawn from health with noise
(active users and feature breadth in `usage`, tickets and CSAT in `support`, NPS in
`surveys`, engagement replies in `people`).

Outcomes are caused by the *observable* signals, not by `x` directly: churn at renewal
(`churn_logit`), contraction when seats go unused, expansion after high seat use and
usage growth. So a health score built from the signals predicts churn, but with noise, as
in real life. The true probability is recorded only through the writer's `truth` table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from integrations.sandbox.simulation.context import DayContext
from integrations.sandbox.simulation.presets import PROFILES, SEGMENTS
from integrations.sandbox.simulation.state import RING_DAYS, AccountArrays

REVERSION = 1 / 90
"""Daily pull of health back to its mean: shocks fade over a few months."""
NOISE = 0.09
CHAMPION_GAP_PENALTY = 0.6
"""How far the mean health drops while an account has no champion."""
CHAMPION_LOSS_SHOCK = 0.5
BUG_PERIOD_DRIFT = 0.012
"""Daily loss of health while an account suffers a bad-bug period."""
BUG_PERIOD_DAILY_CHANCE = 1 / 450
PAYMENT_FAILURE_SHOCK = 0.4
BAD_SUPPORT_SHOCK = 0.1
ENGAGEMENT_LIFT = 0.04
FRICTION_DECAY = math.exp(-1 / 45)
PAY_TROUBLE_DECAY = math.exp(-1 / 75)
PRESSURE_DECAY = math.exp(-1 / 21)
DEMAND_HEALTH_DRIFT = 0.003
"""Daily growth of the people wanting the product per unit of health above/below 0.65."""
UPGRADE_PRESSURE = 4.0
"""Accumulated gated attempts / limit hits at which an account asks for a higher plan."""
SEAT_EXPANSION_UTILISATION = 0.9
SEAT_EXPANSION_CHANCE = 0.06
UPGRADE_CHANCE = 0.02
"""Weekly chance that a ready account asks for more seats / a higher plan."""
CONTRACTION_UTILISATION = 0.6
_SEGMENT_CHURN_LOGIT = np.array([PROFILES[s].churn_logit for s in SEGMENTS])


def health(x: np.ndarray) -> np.ndarray:
    """Latent health on a 0..1 scale."""
    return 1.0 / (1.0 + np.exp(-x))


def advance(ctx: DayContext) -> None:
    """One day of drift, decay and random bad-bug periods for every account."""
    arrays, n, draws = ctx.state.arrays, ctx.state.arrays.n, ctx.draws
    if n == 0:
        return
    in_bug_period = arrays.bug_until[:n] >= ctx.ordinal
    no_champion = (arrays.champions[:n] == 0) & arrays.paying[:n]
    target = arrays.mu[:n] - CHAMPION_GAP_PENALTY * no_champion
    arrays.x[:n] += (REVERSION * (target - arrays.x[:n]) + NOISE * draws.standard_normal(n)
                     - BUG_PERIOD_DRIFT * in_bug_period)
    drift = arrays.growth[:n] + DEMAND_HEALTH_DRIFT * (health(arrays.x[:n]) - 0.65)
    arrays.demand[:n] *= np.exp(drift + 0.003 * draws.standard_normal(n))
    arrays.friction[:n] *= FRICTION_DECAY
    arrays.pay_trouble[:n] *= PAY_TROUBLE_DECAY
    arrays.pressure[:n] *= PRESSURE_DECAY
    starts = arrays.paying[:n] & ~in_bug_period & (draws.random(n) < BUG_PERIOD_DAILY_CHANCE)
    lengths = draws.integers(14, 43, size=n)
    arrays.bug_until[:n] = np.where(starts, ctx.ordinal + lengths, arrays.bug_until[:n])


def engagement(x: np.ndarray) -> np.ndarray:
    """Chance that a would-be user is active on a weekday: steeper in health than `health`.

    The steep curve makes usage the most responsive signal, as it is in real products.
    """
    return 0.92 / (1.0 + np.exp(-1.6 * (x - 0.1)))


def account_health(arrays: AccountArrays, idx: int) -> float:
    """One account's latent health on a 0..1 scale."""
    return 1.0 / (1.0 + math.exp(-float(arrays.x[idx])))


def shock(arrays: AccountArrays, idx: int, amount: float) -> None:
    """Move one account's latent health by `amount` (negative for bad news)."""
    arrays.x[idx] += amount


@dataclass(frozen=True)
class Signals:
    """What a customer success team could measure about accounts `idx` today."""

    idx: np.ndarray
    usage_ratio: np.ndarray
    """Active-user days in the last 60 days over the 60 before (28/28 early on; 1 if newer)."""
    seat_utilisation: np.ndarray
    """Peak daily active users in the last 30 days over contracted seats."""
    peak_active: np.ndarray
    friction: np.ndarray
    payment_trouble: np.ndarray
    champion_missing: np.ndarray
    nps: np.ndarray
    days_since_engaged: np.ndarray

    def rows(self, positions: np.ndarray) -> Signals:
        """The signals of a subset (positions into these arrays)."""
        return Signals(**{name: getattr(self, name)[positions]
                          for name in self.__dataclass_fields__})


def _window_sum(ring: np.ndarray, position: int, offset: int, width: int) -> np.ndarray:
    columns = (position - offset - np.arange(width)) % RING_DAYS
    return ring[:, columns].sum(axis=1)


def observe(ctx: DayContext, idx: np.ndarray) -> Signals:
    """The signals of accounts `idx` as of now (today's usage included once recorded)."""
    arrays = ctx.state.arrays
    position = ctx.index % RING_DAYS
    ring = arrays.ring[idx]
    history = arrays.history[idx]
    long_last, long_prev = _window_sum(ring, position, 0, 60), _window_sum(ring, position, 60, 60)
    short_last, short_prev = (_window_sum(ring, position, 0, 28),
                              _window_sum(ring, position, 28, 28))
    last = np.where(history >= 120, long_last, short_last).astype(np.float64)
    prev = np.where(history >= 120, long_prev, short_prev).astype(np.float64)
    ratio = np.where((history >= 56) & (prev > 0), (last + 1) / (prev + 1), 1.0)
    peak = ring[:, (position - np.arange(30)) % RING_DAYS].max(axis=1)
    seats = np.maximum(arrays.seats[idx], 1)
    utilisation = np.where(history > 0, peak / seats, 0.7)
    engaged = arrays.last_engaged[idx]
    return Signals(
        idx=idx,
        usage_ratio=ratio,
        seat_utilisation=utilisation,
        peak_active=peak,
        friction=arrays.friction[idx],
        payment_trouble=arrays.pay_trouble[idx] + arrays.dunning[idx],
        champion_missing=arrays.champions[idx] == 0,
        nps=arrays.nps[idx],
        days_since_engaged=np.where(engaged > 0, ctx.ordinal - engaged, 365),
    )


def churn_logit(signals: Signals, segment: np.ndarray) -> np.ndarray:
    """Log-odds that an account would not renew for another year, given its signals."""
    decline = np.clip(-np.log(signals.usage_ratio), 0.0, 1.5)
    growth = np.clip(np.log(signals.usage_ratio), 0.0, 1.0)
    friction = 1.0 - np.exp(-signals.friction / 2.0)
    payment = 1.0 - np.exp(-signals.payment_trouble)
    nps = signals.nps
    detractor = np.where(nps <= 6, (7.0 - np.where(np.isnan(nps), 7.0, nps)) / 7.0, 0.0)
    promoter = np.where(nps >= 9, 1.0, 0.0)
    stale = np.clip((signals.days_since_engaged - 60) / 120.0, 0.0, 1.0)
    low_use = np.clip((CONTRACTION_UTILISATION - signals.seat_utilisation)
                      / CONTRACTION_UTILISATION, 0.0, 1.0)
    return (_SEGMENT_CHURN_LOGIT[segment] + 6.0 * decline - 3.0 * growth + 1.3 * friction
            + 2.5 * payment + 1.1 * signals.champion_missing + 1.6 * detractor - 0.5 * promoter
            + 0.6 * stale + 1.2 * low_use)


@dataclass(frozen=True)
class Outlook:
    """Today's signals and churn log-odds of every account, computed once per day."""

    signals: Signals
    logit: np.ndarray

    def covers(self, idx: int) -> bool:
        return idx < len(self.logit)


def today(ctx: DayContext) -> Outlook:
    """Signals and churn log-odds of all accounts as of the morning's usage (memoised).

    Decisions later in the day read this snapshot; an account created after it was taken
    gets its own fresh look (see `outlook_of`).
    """
    outlook = ctx.cache.get("outlook")
    if outlook is None:
        arrays = ctx.state.arrays
        signals = observe(ctx, np.arange(arrays.n))
        outlook = Outlook(signals, churn_logit(signals, arrays.segment[:arrays.n]))
        ctx.cache["outlook"] = outlook
    return outlook


def outlook_of(ctx: DayContext, idx: int) -> tuple[Signals, int, float]:
    """(signals, row in them, churn log-odds) of one account."""
    outlook = today(ctx)
    if outlook.covers(idx):
        return outlook.signals, idx, float(outlook.logit[idx])
    signals = observe(ctx, np.array([idx]))
    return signals, 0, float(churn_logit(signals, ctx.state.arrays.segment[[idx]])[0])


def probability(logit: float) -> float:
    """A log-odds as a probability."""
    return 1.0 / (1.0 + math.exp(-logit))


def period_probability(annual: float, period_days: float) -> float:
    """The chance of churning at one renewal of a `period_days`-long term."""
    return 1.0 - (1.0 - annual) ** (period_days / 365.25)


def expansion_candidates(ctx: DayContext) -> list[tuple[str, int]]:
    """Accounts asking for more this week: ("seats", idx) or ("upgrade", idx) decisions.

    Each account is looked at on one weekday; seats follow high seat use with growing usage
    when more people want in than there are seats (the customer's own, hidden, reason),
    upgrades follow pressure from gated premium features and plan limits.
    """
    arrays, n = ctx.state.arrays, ctx.state.arrays.n
    rows = np.arange(n)
    eligible = (arrays.paying[:n] & ~arrays.cancel_pending[:n] & ~arrays.dunning[:n]
                & ~arrays.expansion_open[:n] & (arrays.history[:n] >= 30)
                & ((rows + ctx.index) % 7 == 0))
    idx = np.flatnonzero(eligible)
    luck = ctx.draws.random(len(idx))
    if len(idx) == 0:
        return []
    signals = today(ctx).signals.rows(idx)
    crowded = arrays.demand[idx] > arrays.seats[idx] * 1.05
    wants_seats = ((signals.seat_utilisation >= SEAT_EXPANSION_UTILISATION)
                   & (signals.usage_ratio >= 1.0) & crowded)
    wants_upgrade = (arrays.pressure[idx] >= UPGRADE_PRESSURE) & (arrays.plan[idx] < 2)
    chance = np.where(wants_seats, SEAT_EXPANSION_CHANCE,
                      np.where(wants_upgrade, UPGRADE_CHANCE, 0.0))
    chosen = luck < chance
    return [("seats" if wants_seats[k] else "upgrade", int(idx[k]))
            for k in np.flatnonzero(chosen)]
