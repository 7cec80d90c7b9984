"""Rolling-window request counting, shared by the sandbox (server side) and the connectors.

A rolling window (not fixed buckets), the way HubSpot, Stripe, Zendesk and Slack count: a
client cannot burst 2x the limit across a bucket edge. The sandbox enforces limits with it
(at least as strict as the vendor, or a connector tuned on it would be throttled in
production), and `integrations.ratelimit` keeps connectors under them with the same arithmetic.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """A published limit: `limit` requests per `window` seconds (per token, channel, …)."""

    limit: int
    window: float


@dataclass(frozen=True)
class Admission:
    """The limiter's verdict on one request."""

    allowed: bool
    remaining: int
    retry_after: float


class SlidingWindowLimiter:
    """Counts requests per (bucket key, limit) over a rolling window; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[tuple[str, RateLimit], deque[float]] = {}
        self._lock = threading.Lock()
        self.rejected = 0

    def admit(self, key: str, limit: RateLimit) -> Admission:
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault((key, limit), deque())
            while hits and hits[0] <= now - limit.window:
                hits.popleft()
            if len(hits) >= limit.limit:
                self.rejected += 1
                return Admission(False, 0, max(hits[0] + limit.window - now, 0.001))
            hits.append(now)
            return Admission(True, limit.limit - len(hits), 0.0)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
            self.rejected = 0
