"""One simulated day's working context: its clock, random streams, and the record emitter.

Randomness comes from generators seeded by (seed, day) alone, created fresh each day, so the
draws of a day do not depend on how many days ran before it in this process: generating to a
day and stepping on gives the same company as generating straight through.

The emitter buffers the day's canonical records and hands them to the writer ordered by the
time of the change, so vendor event streams (Stripe's Events API) come out in time order
even though accounts are processed one after another.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import numpy as np

from integrations.sandbox.simulation.clock import (
    DAY_SECONDS,
    HOUR_SECONDS,
    day_start,
    ordinal_of,
)
from integrations.sandbox.simulation.ids import IdFactory
from integrations.sandbox.simulation.state import AccountState, WorldState


class Writer(Protocol):
    """What the simulation needs of `store.WorldWriter` (tests pass a recording double)."""

    def put(self, kind: str, record: dict[str, Any]) -> None: ...
    def put_usage(self, rows: list[dict[str, Any]]) -> None: ...
    def put_truth(self, rows: list[tuple[int, str, str, float]]) -> None: ...
    def set_meta(self, key: str, value: Any) -> None: ...
    def commit_day(self) -> None: ...
    def close(self) -> None: ...


class Emitter:
    """Buffers one day's records and writes them in order of the time they changed."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.counts: Counter[str] = Counter()
        self.usage_rows = 0
        self.usage_days = 0
        self._buffer: list[tuple[float, int, str, dict[str, Any]]] = []

    def emit(self, kind: str, record: dict[str, Any], ts: float) -> None:
        self._buffer.append((ts, len(self._buffer), kind, record))

    def usage(self, rows: list[dict[str, Any]]) -> None:
        """Write one day's usage rows (all paying accounts) straight away."""
        self.writer.put_usage(rows)
        self.usage_rows += len(rows)
        self.usage_days += bool(rows)

    def flush(self, in_time_order: bool = True) -> None:
        """Write the buffered records: by change time, or as emitted (parents first).

        The first day's backfill is written as emitted: its records carry their historical
        times, and a company must reach the writer before its contacts however old they are.
        """
        if in_time_order:
            self._buffer.sort(key=lambda item: (item[0], item[1]))
        for _, _, kind, record in self._buffer:
            self.writer.put(kind, record)
            self.counts[kind] += 1
        self._buffer.clear()


@dataclass
class DayContext:
    """The day being simulated, with its random streams and the emitter."""

    state: WorldState
    day: date
    emitter: Emitter
    ids: IdFactory
    rng: random.Random = field(init=False)
    draws: np.random.Generator = field(init=False)
    start_ts: float = field(init=False)
    end_ts: float = field(init=False)
    truth: list[tuple[int, str, str, float]] = field(default_factory=list)
    """Hidden-truth rows of the day (account key, name, day, value), never served."""
    backfilling: bool = False
    """True while the first day writes the company's state from before the history."""
    cache: dict[str, Any] = field(default_factory=dict)
    """Per-day memo of vectorised computations (see `dynamics.today`)."""

    def __post_init__(self) -> None:
        seed = self.state.seed
        self.rng = random.Random(f"{seed}:{self.day.isoformat()}")
        self.draws = np.random.default_rng([seed, self.day.toordinal()])
        self.start_ts = day_start(self.day)
        self.end_ts = self.start_ts + DAY_SECONDS

    @property
    def ordinal(self) -> int:
        return self.day.toordinal()

    @property
    def index(self) -> int:
        """Days since the first simulated day."""
        return self.state.day_index(self.day)

    def business_time(self) -> float:
        """A whole-second time in this day's working hours (13:00–22:00 UTC: EU + US)."""
        return self.start_ts + float(self.rng.randrange(13 * HOUR_SECONDS, 22 * HOUR_SECONDS))

    def emit(self, kind: str, record: dict[str, Any], ts: float) -> None:
        """Hand a full new state of a record, changed at `ts`, to the writer at day end.

        Only the first day's backfill (the company as it stood before the history) may
        emit changes dated before the day: anything else would be invisible to a connector
        syncing incrementally by modification time.
        """
        if ts >= self.end_ts or (ts < self.start_ts and not self.backfilling):
            raise ValueError(f"{kind} {record.get('key')} changed at {ts}, outside "
                             f"{self.day.isoformat()}")
        self.emitter.emit(kind, record, ts)

    def schedule(self, account: AccountState, when: float, action: str,
                 *payload: Any) -> None:
        """Run `action` for `account` at `when`, in whole seconds, never before today."""
        when = max(float(round(when)), self.start_ts)
        self.state.push(account, when, action, payload, ordinal_of(when))
