"""The simulation's state between days: numpy columns over accounts plus small per-account parts.

Only current state lives here, never history: usage is a fixed-length ring of recent days,
tickets and invoices leave when they close, departed contacts are dropped once emitted, and
the agenda holds only future work. Memory therefore grows with the number of accounts, not
with simulated time, and the whole state pickles between `generate` and `step`.

Numeric per-account quantities that the daily draws touch for every account sit in numpy
columns (`AccountArrays`, row = account key - 1) so those draws are vectorised; everything
that changes only on events (records, contacts, subscription, queues) sits in `AccountState`.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from integrations.sandbox.simulation.catalog import FEATURES

RING_DAYS = 120
"""Days of daily active users kept per account: two 60-day windows for the usage trend."""

_COLUMNS: tuple[tuple[str, type, float], ...] = (
    # latent health (log-odds), its long-run mean, and traits drawn at sign-up
    ("x", np.float64, 0.0), ("mu", np.float64, 0.0), ("intensity", np.float64, 1.0),
    ("card_risk", np.float64, 0.0), ("growth", np.float64, 0.0),
    # people who want to use the product, and the observable signal accumulators
    ("demand", np.float64, 0.0), ("friction", np.float64, 0.0), ("pay_trouble", np.float64, 0.0),
    ("pressure", np.float64, 0.0), ("nps", np.float64, np.nan),
    # contract and lifecycle
    ("seats", np.int32, 0), ("plan", np.int32, -1), ("segment", np.int32, 0),
    ("signup_day", np.int32, 0), ("churn_day", np.int32, 0), ("churn_kind", np.int32, 0),
    ("bug_until", np.int32, 0), ("last_engaged", np.int32, 0), ("history", np.int32, 0),
    ("contacts", np.int32, 0), ("champions", np.int32, 0),
    ("paying", np.bool_, False), ("dunning", np.bool_, False),
    ("expansion_open", np.bool_, False), ("cancel_pending", np.bool_, False),
)
CHURN_VOLUNTARY = 1
CHURN_INVOLUNTARY = 2


class AccountArrays:
    """Per-account numeric state as numpy columns, grown by doubling as accounts sign up."""

    x: np.ndarray
    mu: np.ndarray
    intensity: np.ndarray
    card_risk: np.ndarray
    growth: np.ndarray
    demand: np.ndarray
    friction: np.ndarray
    pay_trouble: np.ndarray
    pressure: np.ndarray
    nps: np.ndarray
    seats: np.ndarray
    plan: np.ndarray
    segment: np.ndarray
    signup_day: np.ndarray
    churn_day: np.ndarray
    churn_kind: np.ndarray
    bug_until: np.ndarray
    last_engaged: np.ndarray
    history: np.ndarray
    contacts: np.ndarray
    champions: np.ndarray
    paying: np.ndarray
    dunning: np.ndarray
    expansion_open: np.ndarray
    cancel_pending: np.ndarray
    adopted: np.ndarray
    """(accounts, features) bool: feature in use, or wanted when the plan gates it."""
    ring: np.ndarray
    """(accounts, RING_DAYS) int32 daily active users; column `day_index % RING_DAYS`."""

    def __init__(self, capacity: int = 64) -> None:
        self.n = 0
        self.capacity = capacity
        for name, dtype, default in _COLUMNS:
            setattr(self, name, np.full(capacity, default, dtype=dtype))
        self.adopted = np.zeros((capacity, len(FEATURES)), dtype=np.bool_)
        self.ring = np.zeros((capacity, RING_DAYS), dtype=np.int32)

    def settled(self, ordinal: int) -> np.ndarray:
        """Accounts that existed before day `ordinal` (today's sign-ups are left alone, so
        nothing about them can be dated before the records that create them)."""
        return self.signup_day[:self.n] < ordinal

    def append(self) -> int:
        """Room for one more account; returns its row."""
        if self.n == self.capacity:
            self._grow(self.capacity * 2)
        self.n += 1
        return self.n - 1

    def _grow(self, capacity: int) -> None:
        for name, dtype, default in _COLUMNS:
            column: np.ndarray = np.full(capacity, default, dtype=dtype)
            column[:self.n] = getattr(self, name)[:self.n]
            setattr(self, name, column)
        for name in ("adopted", "ring"):
            old = getattr(self, name)
            grown = np.zeros((capacity, old.shape[1]), dtype=old.dtype)
            grown[:self.n] = old[:self.n]
            setattr(self, name, grown)
        self.capacity = capacity


@dataclass(slots=True)
class AccountState:
    """One account's records and queues; the canonical dicts are replaced, never mutated.

    Replacing instead of mutating lets the day's emitter hold a record until the day is
    flushed while later changes build new dicts.
    """

    idx: int
    record: dict[str, Any]
    contacts: list[dict[str, Any]] = field(default_factory=list)
    subscription: dict[str, Any] | None = None
    price_id: str | None = None
    coupon_id: str | None = None
    period_index: int = 0
    invoice_prefix: str = ""
    invoices_issued: int = 0
    open_invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    failing: dict[str, str] = field(default_factory=dict)
    """Open invoices in dunning -> the failure code their retries have to overcome."""
    pending_change: tuple[str, int] | None = None
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    renewal_deal: dict[str, Any] | None = None
    expansion_deal: dict[str, Any] | None = None
    expansion_plan: tuple[str, int] | None = None
    heap: list[tuple[float, int, str, tuple[Any, ...]]] = field(default_factory=list)

    @property
    def key(self) -> int:
        return self.idx + 1


@dataclass
class WorldState:
    """Everything needed to simulate the next day, and nothing about past days."""

    seed: int
    size: str
    accounts_target: int
    start: date
    clock: date | None = None
    arrays: AccountArrays = field(default_factory=AccountArrays)
    accounts: list[AccountState] = field(default_factory=list)
    csms: dict[int, dict[str, Any]] = field(default_factory=dict)
    teams: dict[str, list[int]] = field(default_factory=dict)
    csm_load: dict[int, int] = field(default_factory=dict)
    prices: dict[str, dict[str, Any]] = field(default_factory=dict)
    coupons: dict[str, dict[str, Any]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    agenda: dict[int, set[int]] = field(default_factory=dict)

    def next_key(self, kind: str) -> int:
        """The next stable key of a record kind (1, 2, 3, ... in creation order)."""
        key = self.counters.get(kind, 0) + 1
        self.counters[kind] = key
        return key

    def count(self, name: str, by: int = 1) -> None:
        """Bump a lifetime statistic (churns, reactivations) reported in summaries."""
        self.counters[name] = self.counters.get(name, 0) + by

    def day_index(self, day: date) -> int:
        """Days since the first simulated day (0 on the first day)."""
        return day.toordinal() - self.start.toordinal()

    def push(self, account: AccountState, when: float, action: str, payload: tuple[Any, ...],
             ordinal: int) -> None:
        """Queue `action` for `account` at time `when` (falling on day `ordinal`)."""
        heapq.heappush(account.heap, (when, self.next_key("_agenda_seq"), action, payload))
        self.agenda.setdefault(ordinal, set()).add(account.idx)
