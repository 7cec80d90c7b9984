"""`plan`: read the marts, decide every action they call for, write the new ones to the outbox.

Reads → findings (pure rules) → actions (routing, Block Kit, CRM payloads) → suppression
(churned, snoozed, cool-down) → digests → the outbox. Keys already in the outbox are left as
they are, so planning twice changes nothing; the report is the diff: what is new and will be
sent, what is new and held back (with why), and what was there before.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from csp.activation.actions import Action
from csp.activation.db import Db
from csp.activation.findings import find_all
from csp.activation.outbox import (
    ensure_outbox,
    existing_keys,
    insert_actions,
    last_health_writes,
    recent_deliveries,
)
from csp.activation.planner import health_writes, plan_actions, with_digests
from csp.activation.rules import RuleBook
from csp.activation.snapshot import RULE_SOURCES, read_snapshot
from csp.activation.suppression import active_snoozes, suppression_reason


@dataclass
class PlanReport:
    """What a plan decided; `lines()` is the readable diff `csp plan` prints."""

    as_of: date
    new: list[Action] = field(default_factory=list)
    suppressed: list[tuple[Action, str]] = field(default_factory=list)
    digested: dict[str, str] = field(default_factory=dict)
    unchanged: Counter[str] = field(default_factory=Counter)     # status -> actions
    skipped_rules: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "new": len(self.new),
                "new_by_kind": dict(Counter(a.kind for a in self.new)),
                "suppressed": len(self.suppressed), "digested": len(self.digested),
                "already_in_outbox": dict(self.unchanged), "skipped_rules": self.skipped_rules}

    def lines(self) -> list[str]:
        out = [f"plan as of {self.as_of.isoformat()}: {len(self.new)} new action(s) to send, "
               f"{len(self.suppressed)} held back, {len(self.digested)} folded into digests, "
               f"{sum(self.unchanged.values())} already in the outbox "
               f"({', '.join(f'{n} {s}' for s, n in sorted(self.unchanged.items())) or 'none'})"]
        out += [f"+ {a.kind:<9} {a.rule:<24} {a.account_id:<14} -> {a.destination}"
                for a in self.new]
        out += [f"~ {a.kind:<9} {a.rule:<24} {a.account_id:<14} held: {reason}"
                for a, reason in self.suppressed]
        out += [f"! rule {rule} skipped: {why}" for rule, why in self.skipped_rules.items()]
        return out


def plan(db: Db, book: RuleBook, as_of: date | None = None) -> PlanReport:
    """Plan the actions the marts call for as of `as_of` and record them in the outbox."""
    ensure_outbox(db)
    touchpoint_rule = book.rules.get("lifecycle_touchpoint_due")
    snapshot = read_snapshot(db, as_of, touchpoint_days_ahead=int(
        touchpoint_rule.params.get("days_ahead", 0)) if touchpoint_rule else 0)
    report = PlanReport(as_of=snapshot.as_of)
    runnable = {}
    for name, rule in book.rules.items():
        absent = [rel for rel in RULE_SOURCES[name] if rel in snapshot.missing]
        if absent:
            report.skipped_rules[name] = f"{', '.join(absent)} not built yet"
        else:
            runnable[name] = rule
    actions = plan_actions(snapshot, find_all(snapshot, runnable), book)
    actions += health_writes(snapshot, book, last_health_writes(db))
    known = existing_keys(db, [a.key for a in actions])
    for action in actions:
        if action.key in known:
            report.unchanged[known[action.key]] += 1
    fresh = [a for a in actions if a.key not in known]
    longest = max((r.cooldown_days for r in book.rules.values()), default=0)
    history = recent_deliveries(db, snapshot.as_of - timedelta(days=longest))
    snoozes = active_snoozes(db, snapshot.as_of)
    sendable = []
    for action in fresh:
        reason = suppression_reason(action, book, snapshot.accounts.get(action.account_id),
                                    history, snoozes)
        if reason is None:
            sendable.append(action)
        else:
            report.suppressed.append((action, reason))
    to_send, folded = with_digests(sendable, book.routing.digest_after, snapshot.as_of)
    folded_actions = [a for a in sendable if a.key in folded]
    report.new = [a for a in to_send if a.key not in known]
    report.digested = folded
    insert_actions(db, [
        *((a, "planned", None, None) for a in report.new),
        *((a, "suppressed", None, reason) for a, reason in report.suppressed),
        *((a, "digested", folded[a.key], None) for a in folded_actions),
    ])
    return report
