"""Fault injection: what can go wrong between a connector and a vendor, on demand.

A fault targets a vendor and optionally one endpoint (route name, `fnmatch` pattern such as
"companies.*"), fires on a given number of matching requests (or with a probability, from a
seeded RNG so tests are repeatable), and then expires. Faults that act before the handler
(429, 5xx, slow) never touch the world; the ones after it (drop, malformed, drift) let the
handler run first — so a dropped write *was* accepted, the ambiguous case connectors must
resolve without a blind resend.
"""

from __future__ import annotations

import copy
import fnmatch
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

BEFORE_HANDLER = ("slow", "rate_limit", "http_error")
AFTER_HANDLER = ("drop", "malformed", "drift_add", "drift_rename", "drift_type")
KINDS = BEFORE_HANDLER + AFTER_HANDLER


class FaultError(ValueError):
    """A fault specification that cannot work, with the reason."""


@dataclass
class Fault:
    """One injected fault. Unset `count` and `probability` mean: every matching request."""

    vendor: str
    kind: str
    route: str = "*"
    count: int | None = None
    probability: float | None = None
    status: int = 503              # http_error
    seconds: float = 1.0           # slow: delay; rate_limit: Retry-After
    field: str = ""                # drift_*: dotted path in each record ("properties.domain")
    to: str = ""                   # drift_rename: the new name (last path segment)
    value: Any = "drift"           # drift_add: the value of the new field
    fired: int = 0
    id: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FaultError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if self.kind.startswith("drift_") and not self.field:
            raise FaultError(f"fault {self.kind} needs 'field' (a dotted path in each record)")
        if self.kind == "drift_rename" and not self.to:
            raise FaultError("fault drift_rename needs 'to' (the new field name)")
        if self.kind == "http_error" and not 500 <= self.status <= 599:
            raise FaultError("fault http_error needs a 5xx 'status'")
        if self.probability is not None and not 0 < self.probability <= 1:
            raise FaultError("fault probability must be in (0, 1]")

    def matches(self, vendor: str, route: str) -> bool:
        return vendor == self.vendor and fnmatch.fnmatchcase(route, self.route)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FaultBoard:
    """The active faults of a running sandbox; thread-safe, consulted on every request."""

    seed: int = 0
    _faults: list[Fault] = field(default_factory=list)
    _next_id: int = 1

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def clear(self) -> None:
        """Remove every fault and restart the RNG, so the same faults again fire the same way."""
        with self._lock:
            self._faults.clear()
            self._rng = random.Random(self.seed)

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults if not f.exhausted]

    def firing(self, vendor: str, route: str, kinds: tuple[str, ...], *,
               first_only: bool = False) -> list[Fault]:
        """The live faults of `kinds` that fire on this request, each counted as fired.

        All of them apply (slow faults add up; drifts combine, then a malformed or dropped
        response replaces the drifted one), except where only one can answer the request
        (a 429 or a 5xx): `first_only` then fires and counts just the first.
        """
        fired: list[Fault] = []
        with self._lock:
            for fault in self._faults:
                if fault.kind not in kinds or fault.exhausted or not fault.matches(vendor, route):
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                fault.fired += 1
                fired.append(fault)
                if first_only:
                    break
        return fired


def apply_drift(records: list[dict[str, Any]], fault: Fault) -> None:
    """Change each record in place as the drift fault says (records are the response's own)."""
    *parents, leaf = fault.field.split(".")
    for record in records:
        target: Any = record
        for name in parents:
            target = target.get(name) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            continue
        if fault.kind == "drift_add":
            target[leaf] = copy.deepcopy(fault.value)
        elif leaf in target and fault.kind == "drift_rename":
            target[fault.to] = target.pop(leaf)
        elif leaf in target and fault.kind == "drift_type":
            target[leaf] = _other_type(target[leaf])


def _other_type(value: Any) -> Any:
    """A value of a different JSON type carrying the same information where possible."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return {"value": value}
    if value is None:
        return "null"
    return str(value)
