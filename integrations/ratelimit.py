"""The client side of a vendor's rate limit: wait before sending rather than be told 429.

The window arithmetic is `rate_window.SlidingWindowLimiter` (a rolling window of `limit`
requests per `window` seconds), the one the sandbox enforces with, so client and server count
requests the same way: a connector kept under its configured rate by this limiter is, by
construction, under the sandbox's limit of the same size — with one caveat, which `margin`
covers: the client stamps a request when it is sent and the server when it arrives, so a
request delayed on the way (a new connection, a busy interpreter) followed by one that is not
can squeeze N sends made over exactly W seconds into less than W at the other end. Counting
over W + margin, with the margin at least the spread of one-way delays, keeps the server's
count under its limit. Also set the client's limit a little below the vendor's published one
(e.g. 90 %) where other clients share the same quota.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from integrations.rate_window import RateLimit, SlidingWindowLimiter

__all__ = ["ClientRateLimiter", "LimiterStats", "RateLimit"]


@dataclass(frozen=True)
class LimiterStats:
    """What the limiter cost the caller: how often it made a request wait, and for how long."""

    admitted: int
    waits: int
    waited_seconds: float


class ClientRateLimiter:
    """Blocks each caller until the rolling window admits one more request; thread-safe.

    Threads of one vendor share one limiter, so the *vendor's* rate is respected however many
    workers extract in parallel. `defer` lets a server's `Retry-After` hold every thread back,
    not only the one that was told.
    """

    _KEY = "client"
    DEFAULT_MARGIN = 0.05          # seconds; loopback and LAN delays vary by far less

    def __init__(self, limit: RateLimit, *, margin: float = DEFAULT_MARGIN,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if limit.limit < 1 or limit.window <= 0 or margin < 0:
            raise ValueError(f"rate limit must allow at least 1 request per positive window, "
                             f"got {limit.limit} per {limit.window}s (margin {margin}s)")
        self.limit = limit
        self._counted = RateLimit(limit.limit, limit.window + margin)
        self._clock = clock
        self._sleep = sleep
        self._window = SlidingWindowLimiter(clock)
        self._lock = threading.Lock()
        self._not_before = 0.0
        self._admitted = 0
        self._waits = 0
        self._waited = 0.0

    def acquire(self) -> float:
        """Wait until one more request fits in the window, count it, return the seconds waited."""
        started = self._clock()
        slept = False
        while True:
            pause = self._pause_left()
            if pause > 0:
                self._sleep(pause)
                slept = True
                continue
            admission = self._window.admit(self._KEY, self._counted)
            if admission.allowed:
                break
            self._sleep(admission.retry_after)
            slept = True
        waited = self._clock() - started if slept else 0.0
        with self._lock:
            self._admitted += 1
            if slept:
                self._waits += 1
                self._waited += waited
        return waited

    def defer(self, seconds: float) -> None:
        """Admit nobody for `seconds` from now (the vendor asked every client to back off)."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    def stats(self) -> LimiterStats:
        with self._lock:
            return LimiterStats(self._admitted, self._waits, self._waited)

    def _pause_left(self) -> float:
        with self._lock:
            return self._not_before - self._clock()
