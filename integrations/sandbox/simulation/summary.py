"""What a generate or step run produced, for the CLI, the server's logs and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from integrations.sandbox.simulation.catalog import discounted_monthly
from integrations.sandbox.simulation.context import Emitter
from integrations.sandbox.simulation.presets import SEGMENTS
from integrations.sandbox.simulation.state import WorldState


@dataclass(frozen=True)
class SimulationSummary:
    """Counts at the end of a run; `records`, `churned` etc. count this run's days only."""

    seed: int
    size: str
    start: date
    clock: date
    days: int
    accounts_ever: int
    paying_by_segment: dict[str, int]
    mrr_cents: int
    mrr_by_segment: dict[str, int]
    churned: int
    churned_involuntary: int
    reactivated: int
    records: dict[str, int]
    usage_rows: int
    usage_days: int
    elapsed_seconds: float

    @property
    def paying(self) -> int:
        return sum(self.paying_by_segment.values())

    @property
    def total_records(self) -> int:
        return sum(self.records.values())

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        """A short human-readable report."""
        paying = ", ".join(f"{s} {n}" for s, n in self.paying_by_segment.items())
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.records.items()))
        return [
            f"world {self.size} seed {self.seed}: {self.start} .. {self.clock} "
            f"({self.days} days simulated in {self.elapsed_seconds:.1f} s)",
            f"accounts ever {self.accounts_ever}; paying {self.paying} ({paying})",
            f"MRR ${self.mrr_cents / 100:,.0f}; churned {self.churned} "
            f"({self.churned_involuntary} involuntary); reactivated {self.reactivated}",
            f"records {self.total_records} ({kinds})",
            f"usage rows {self.usage_rows} over {self.usage_days} days",
        ]


def summarize(state: WorldState, before: dict[str, int], days: int, emitter: Emitter,
              elapsed: float) -> SimulationSummary:
    """The summary of the run that took the counters from `before` to `state.counters`."""
    assert state.clock is not None
    paying = {segment: 0 for segment in SEGMENTS}
    mrr = {segment: 0.0 for segment in SEGMENTS}
    arrays = state.arrays
    for idx in np.flatnonzero(arrays.paying[:arrays.n]):
        account = state.accounts[idx]
        sub = account.subscription
        if sub is None or account.price_id is None:
            continue
        segment = account.record["segment"]
        coupon = state.coupons.get(account.coupon_id or "")
        paying[segment] += 1
        mrr[segment] += discounted_monthly(state.prices[account.price_id],
                                           sub["items"][0]["quantity"], coupon)

    def delta(name: str) -> int:
        return state.counters.get(name, 0) - before.get(name, 0)

    return SimulationSummary(
        seed=state.seed, size=state.size, start=state.start, clock=state.clock, days=days,
        accounts_ever=arrays.n, paying_by_segment=paying, mrr_cents=round(sum(mrr.values())),
        mrr_by_segment={s: round(v) for s, v in mrr.items()},
        churned=delta("churned_voluntary") + delta("churned_involuntary"),
        churned_involuntary=delta("churned_involuntary"), reactivated=delta("reactivated"),
        records=dict(emitter.counts), usage_rows=emitter.usage_rows,
        usage_days=emitter.usage_days, elapsed_seconds=elapsed,
    )
