"""The day loop: bootstrap, simulate each day in a fixed order, commit it, persist the state.

Determinism: a day's draws come only from generators seeded by (seed, day) (see
`context.DayContext`), accounts are visited in key order, and nothing looks past the current
day, so `generate` to day D followed by `step` of N days writes exactly what `generate`
straight to D+N writes. The state needed to continue is pickled next to the world after the
last committed day (atomically: a crash leaves the previous state or the new one).
"""

from __future__ import annotations

import gc
import heapq
import os
import pickle
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from integrations.sandbox.simulation import (
    billing,
    dynamics,
    expansion,
    lifecycle,
    people,
    renewals,
    support,
    surveys,
    usage,
)
from integrations.sandbox.simulation.catalog import (
    PRODUCTS_SINCE_DAYS,
    build_coupons,
    build_prices,
)
from integrations.sandbox.simulation.clock import DAY_SECONDS, add_months
from integrations.sandbox.simulation.context import DayContext, Emitter, Writer
from integrations.sandbox.simulation.ids import IdFactory
from integrations.sandbox.simulation.presets import resolve_size
from integrations.sandbox.simulation.state import WorldState
from integrations.sandbox.simulation.summary import SimulationSummary, summarize

WORLD_FILE = "world.sqlite"
STATE_FILE = "state.pickle"
STATE_FORMAT = 1

WriterFactory = Callable[[Path], Writer]

ACTIONS: dict[str, Callable[..., None]] = {
    "roll": renewals.roll,
    "renewal_check": renewals.renewal_check,
    "renewal_deal": renewals.open_renewal_deal,
    "pay": lifecycle.collect,
    "transfer": billing.pay_by_transfer,
    "overdue": billing.mark_overdue,
    "discount_end": billing.end_discount,
    "expansion_close": expansion.close_expansion,
    "hire": people.hire,
    "ticket": support.advance_ticket,
    "nps": surveys.nps_response,
    "ces": surveys.ces_response,
}
"""Every action an account's queue can hold, by name (names are what the state pickles)."""


def _default_writer(path: Path) -> Writer:
    from integrations.sandbox.store import WorldWriter

    return WorldWriter(path)


def generate(world_dir: Path, *, size: str = "small", seed: int = 7, months: int = 24,
             end: date = date(2026, 10, 31),
             writer_factory: WriterFactory | None = None) -> SimulationSummary:
    """Create a new world in `world_dir`, simulated day by day from `end - months` to `end`."""
    world_dir = Path(world_dir)
    accounts = resolve_size(size)
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    for name in (WORLD_FILE, STATE_FILE):
        if (world_dir / name).exists():
            raise FileExistsError(f"a sandbox world already exists in {world_dir} ({name}); "
                                  "remove the directory to generate a new one, or step it")
    world_dir.mkdir(parents=True, exist_ok=True)
    start = add_months(end, -months)
    state = WorldState(seed=seed, size=size, accounts_target=accounts, start=start)
    writer = (writer_factory or _default_writer)(world_dir / WORLD_FILE)
    writer.set_meta("seed", seed)
    writer.set_meta("size", size)
    writer.set_meta("start", start.isoformat())
    return _run(state, writer, world_dir, (end - start).days + 1)


def step(world_dir: Path, days: int, *,
         writer_factory: WriterFactory | None = None) -> SimulationSummary:
    """Advance an existing world by `days` days, appending only what changes on them."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    world_dir = Path(world_dir)
    state = load_state(world_dir)
    writer = (writer_factory or _default_writer)(world_dir / WORLD_FILE)
    return _run(state, writer, world_dir, days)


def load_state(world_dir: Path) -> WorldState:
    """The pickled state of the world in `world_dir`."""
    path = Path(world_dir) / STATE_FILE
    if not path.exists():
        raise FileNotFoundError(f"no generated sandbox world in {world_dir}: "
                                "run `csp sandbox generate` first")
    with path.open("rb") as handle:
        saved = pickle.load(handle)
    if saved.get("format") != STATE_FORMAT:
        raise ValueError(f"{path} was written by an incompatible generator version")
    state: WorldState = saved["state"]
    return state


def _save_state(state: WorldState, world_dir: Path) -> None:
    path = world_dir / STATE_FILE
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump({"format": STATE_FORMAT, "state": state}, handle,
                    protocol=pickle.HIGHEST_PROTOCOL)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _run(state: WorldState, writer: Writer, world_dir: Path, days: int) -> SimulationSummary:
    started = time.perf_counter()
    before = dict(state.counters)
    emitter = Emitter(writer)
    ids = IdFactory(state.seed)
    first = state.start if state.clock is None else state.clock + timedelta(days=1)
    with _without_cycle_collection():
        for offset in range(days):
            simulate_day(state, first + timedelta(days=offset), emitter, ids)
    writer.close()
    _save_state(state, world_dir)
    return summarize(state, before, days, emitter, time.perf_counter() - started)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while simulating.

    The state holds millions of long-lived dicts for a large company, and every full
    collection walks all of them while the day loop allocates (and frees) a usage row per
    account per day; the simulation builds no reference cycles, so reference counting frees
    everything and the pauses are pure cost (a fifth of the run time at medium size).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def simulate_day(state: WorldState, day: date, emitter: Emitter, ids: IdFactory) -> None:
    """Simulate one day in a fixed order and commit it as one transaction."""
    ctx = DayContext(state, day, emitter, ids)
    if state.clock is None:
        ctx.backfilling = True
        _bootstrap(ctx)
        ctx.backfilling = False
        emitter.flush(in_time_order=False)
    lifecycle.signups(ctx)
    dynamics.advance(ctx)
    people.departures(ctx)
    people.outreach(ctx)
    emitter.usage(usage.record_day(ctx))
    support.daily(ctx)
    surveys.campaign(ctx)
    expansion.daily(ctx)
    lifecycle.reactivations(ctx)
    _run_agenda(ctx)
    _month_end_truth(ctx)
    emitter.flush()
    emitter.writer.put_truth(ctx.truth)
    state.clock = day
    emitter.writer.set_meta("clock", day.isoformat())
    emitter.writer.set_meta("accounts", state.arrays.n)
    emitter.writer.commit_day()


def _bootstrap(ctx: DayContext) -> None:
    """The company as it stands on the first day: catalog, CS team, existing customers."""
    catalog_since = ctx.start_ts - PRODUCTS_SINCE_DAYS * DAY_SECONDS
    for price in build_prices(ctx.ids, catalog_since):
        ctx.state.prices[price["id"]] = dict(price)
        ctx.emit("price", dict(price), price["created_at"])
    for coupon in build_coupons(catalog_since):
        ctx.state.coupons[coupon["id"]] = dict(coupon)
        ctx.emit("coupon", dict(coupon), coupon["created_at"])
    people.build_team(ctx)
    lifecycle.bootstrap_customers(ctx)


def _run_agenda(ctx: DayContext) -> None:
    """Every queued action due today, account by account in key order, each in time order."""
    state = ctx.state
    due = state.agenda.pop(ctx.ordinal, set())
    for idx in sorted(due):
        account = state.accounts[idx]
        while account.heap and account.heap[0][0] < ctx.end_ts:
            when, _, action, payload = heapq.heappop(account.heap)
            ACTIONS[action](ctx, account, when, *payload)
    state.agenda.pop(ctx.ordinal, None)


def _month_end_truth(ctx: DayContext) -> None:
    """On a month's last day, record every paying account's hidden health (0..1) and the
    true probability that it would not renew for a year given its signals that evening."""
    if (ctx.day + timedelta(days=1)).day != 1:
        return
    arrays = ctx.state.arrays
    idx = np.flatnonzero(arrays.paying[:arrays.n])
    if len(idx) == 0:
        return
    logit = dynamics.churn_logit(dynamics.observe(ctx, idx), arrays.segment[idx])
    risk = 1.0 / (1.0 + np.exp(-logit))
    health = dynamics.health(arrays.x[idx])
    day = ctx.day.isoformat()
    rows: list[tuple[int, str, str, float]] = []
    for i, h, p in zip(idx.tolist(), health.tolist(), risk.tolist(), strict=True):
        rows += [(i + 1, "health", day, h), (i + 1, "churn_risk_annual", day, p)]
    ctx.truth.extend(rows)

