"""Daily product usage of every paying account, drawn in one vectorised pass.

Of the people who want to use the product (`demand`, capped by contracted seats), each is
active on a weekday with a probability that rises with health and with time since the
account started (an onboarding ramp); weekends are quiet. Accounts adopt features over time
(faster when healthy) and drop them when unhealthy; adopted features produce interactions
in proportion to active users. A feature the plan does not include produces blocked "gated"
attempts instead, and interactions beyond the plan's daily limit are blocked as limit hits:
both build up the pressure that leads to plan upgrades (see `dynamics.expansion_candidates`).
Interactions are reported as events of `catalog.ACTIONS_PER_EVENT` each (`reported_events`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from integrations.sandbox.simulation import dynamics
from integrations.sandbox.simulation.catalog import (
    ACTIONS_PER_EVENT,
    DAILY_ACTION_LIMIT_PER_SEAT,
    FEATURE_ACTIONS_PER_USER,
    FEATURE_ADOPTION,
    FEATURES,
    HOME_FEATURE,
    PLAN_FEATURES,
    PLANS,
)
from integrations.sandbox.simulation.context import DayContext
from integrations.sandbox.simulation.state import RING_DAYS

_AVAILABLE = np.array([[f in PLAN_FEATURES[plan] for f in FEATURES] for plan in PLANS])
_RATES = np.array([FEATURE_ACTIONS_PER_USER[f] for f in FEATURES])
_ADOPTION = np.array([FEATURE_ADOPTION[f] for f in FEATURES])
_LIMITS = np.array([DAILY_ACTION_LIMIT_PER_SEAT[p] or np.inf for p in PLANS])
_HOME = FEATURES.index(HOME_FEATURE)
GATED_ATTEMPTS_PER_USER = 0.06
GATED_INTEREST = 0.3
WEEKEND_ACTIVITY = 0.22
RAMP_DAYS = 60
FEATURE_DROP = 0.003
PRESSURE_PER_GATED_DAY = 0.3
PRESSURE_PER_LIMIT_DAY = 0.5


def record_day(ctx: DayContext) -> list[dict[str, Any]]:
    """Draw today's usage of all paying accounts, update their ring, return the usage rows."""
    arrays, n = ctx.state.arrays, ctx.state.arrays.n
    position = ctx.index % RING_DAYS
    arrays.ring[:n, position] = 0
    idx = np.flatnonzero(arrays.paying[:n])
    if len(idx) == 0:
        return []
    draws = ctx.draws
    health = dynamics.health(arrays.x[idx])
    ramp = np.clip(0.35 + 0.65 * arrays.history[idx] / RAMP_DAYS, 0.35, 1.0)
    weekday = 1.0 if ctx.day.weekday() < 5 else WEEKEND_ACTIVITY
    chance = dynamics.engagement(arrays.x[idx]) * ramp * weekday
    pool = np.maximum(np.minimum(arrays.seats[idx], np.floor(arrays.demand[idx])), 1)
    active = draws.binomial(pool.astype(np.int64), chance)
    arrays.ring[idx, position] = active
    arrays.history[idx] += 1

    plans = arrays.plan[idx]
    available = _AVAILABLE[plans]
    adopted = _evolve_adoption(ctx, idx, health * ramp, available)
    intensity = active * (0.5 + health) * arrays.intensity[idx]
    actions = draws.poisson(intensity[:, None] * _RATES[None, :] * (adopted & available))
    gated = draws.poisson(active[:, None] * GATED_ATTEMPTS_PER_USER * (adopted & ~available))
    actions, limit_hits = _apply_limits(actions, _LIMITS[plans] * arrays.seats[idx])
    arrays.pressure[idx] += (PRESSURE_PER_GATED_DAY * (gated.sum(axis=1) > 0)
                             + PRESSURE_PER_LIMIT_DAY * (limit_hits > 0))
    events, blocked = reported_events(actions, limit_hits, active)
    return _rows(ctx, idx, active, events, gated, blocked, plans)


def reported_events(actions: np.ndarray, limit_hits: np.ndarray, active: np.ndarray,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(feature events, limit-hit events) the product reports for drawn interactions.

    Each feature's interactions round up to events of `ACTIONS_PER_EVENT` (so a feature
    used at all shows), blocked ones likewise, and an account with fewer events than active
    users gets the difference on the home feature: every active user appears in the feed.
    """
    events = -(-actions // ACTIONS_PER_EVENT)
    shortfall = np.maximum(active - events.sum(axis=1), 0)
    events[:, _HOME] += shortfall
    return events, -(-limit_hits // ACTIONS_PER_EVENT)


def _evolve_adoption(ctx: DayContext, idx: np.ndarray, readiness: np.ndarray,
                     available: np.ndarray) -> np.ndarray:
    """Features taken up (chance ∝ readiness) or abandoned (chance ∝ ill health) today.

    Interest in a feature the plan lacks grows more slowly than use of an included one.
    """
    arrays = ctx.state.arrays
    adopted = arrays.adopted[idx]
    luck = ctx.draws.random(adopted.shape)
    appetite = np.where(available, 1.0, GATED_INTEREST)
    take_up = luck < _ADOPTION[None, :] * appetite * readiness[:, None]
    keep = luck >= FEATURE_DROP * (1.0 - readiness[:, None])
    adopted = np.where(adopted, keep, take_up)
    arrays.adopted[idx] = adopted
    return adopted


def _apply_limits(actions: np.ndarray, limits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Block interactions beyond each account's daily limit, proportionally across features."""
    totals = actions.sum(axis=1)
    over = totals > limits
    hits = np.zeros(len(totals), dtype=np.int64)
    if over.any():
        scale = limits[over] / totals[over]
        allowed = np.floor(actions[over] * scale[:, None]).astype(actions.dtype)
        hits[over] = totals[over] - allowed.sum(axis=1)
        actions = actions.copy()
        actions[over] = allowed
    return actions, hits


def _rows(ctx: DayContext, idx: np.ndarray, active: np.ndarray, events: np.ndarray,
          gated: np.ndarray, limit_hits: np.ndarray, plans: np.ndarray) -> list[dict[str, Any]]:
    # Rows of `events`/`gated` are exactly len(FEATURES) wide, so the zips below skip
    # strict checking: this loop runs once per paying account per day.
    day, accounts = ctx.day.isoformat(), ctx.state.accounts
    any_gated = (gated.sum(axis=1) > 0).tolist()
    rows = []
    for i, users, counts, blocked, has_gated, hits, plan in zip(
            idx.tolist(), active.tolist(), events.tolist(), gated.tolist(), any_gated,
            limit_hits.tolist(), plans.tolist(), strict=True):
        rows.append({
            "day": day, "account_key": i + 1,
            "workspace_id": accounts[i].record["workspace_id"], "active_users": users,
            "feature_events": {f: c for f, c in zip(FEATURES, counts, strict=False) if c},
            "gated_attempts": {f: c for f, c in zip(FEATURES, blocked, strict=False) if c}
            if has_gated
            else {},
            "limit_hits": hits, "plan": PLANS[plan],
        })
    return rows
