"""The rules of DESIGN.md §5 as pure functions: a `Snapshot` in, `Finding`s out.

No I/O and no clock: the as-of day comes from the snapshot, so planning the same marts twice
gives the same findings with the same periods — the basis of the outbox's stable keys. Each
finding carries its reasons (which components moved and by how much, which invoice, which
contact), because an alert a CSM cannot explain is an alert a CSM ignores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from csp.activation.actions import Finding
from csp.activation.rules import Rule
from csp.activation.snapshot import COMPONENTS, Snapshot

MOVERS_SHOWN = 3


def find_all(snapshot: Snapshot, rules: dict[str, Rule]) -> list[Finding]:
    """Every finding of every configured rule, in a stable order."""
    findings: list[Finding] = []
    for name, rule in rules.items():
        findings.extend(RULES[name](snapshot, rule))
    return sorted(findings, key=lambda f: (f.rule, f.account_id, f.period))


def component_movers(today: dict[str, Any], before: dict[str, Any] | None) -> list[str]:
    """The components that moved most since `before`, worded for a CSM ("payment 100 → 40")."""
    if before is None:
        return []
    moves = []
    for name in COMPONENTS:
        now, then = today.get(f"{name}_score"), before.get(f"{name}_score")
        if now is not None and then is not None and float(now) != float(then):
            moves.append((float(now) - float(then), name, float(then), float(now)))
    moves.sort(key=lambda move: (-abs(move[0]), move[1]))
    return [f"{name.replace('_', ' ')} {then:.0f} → {now:.0f} ({delta:+.0f})"
            for delta, name, then, now in moves[:MOVERS_SHOWN]]


def _health_reasons(snapshot: Snapshot, account_id: str) -> tuple[str, ...]:
    today = snapshot.health_today[account_id]
    reasons = component_movers(today, snapshot.health_week_ago.get(account_id))
    if today.get("main_driver"):
        reasons.insert(0, f"main driver: {str(today['main_driver']).replace('_', ' ')}")
    if today.get("missing_components"):
        reasons.append(f"no data for: {today['missing_components']}")
    return tuple(reasons)


def _health_facts(snapshot: Snapshot, account_id: str) -> dict[str, Any]:
    today = snapshot.health_today.get(account_id, {})
    return {"health_score": today.get("health_score"), "health_band": today.get("health_band"),
            "score_change_7d": today.get("score_change_7d")}


def _crossed_below(snapshot: Snapshot, rule: Rule) -> Iterator[Finding]:
    """Below the threshold today, at or above threshold + hysteresis yesterday."""
    threshold = float(rule.param("threshold"))
    rearm = threshold + float(rule.params.get("hysteresis", 0))
    for account_id, today in snapshot.health_today.items():
        yesterday = snapshot.health_yesterday.get(account_id)
        score, before = today.get("health_score"), (yesterday or {}).get("health_score")
        if score is None or before is None:
            continue
        if float(score) < threshold <= rearm <= float(before):
            yield Finding(rule.name, account_id, snapshot.as_of.isoformat(),
                          f"Health fell below {threshold:.0f}: {float(before):.0f} → "
                          f"{float(score):.0f}", _health_reasons(snapshot, account_id),
                          _health_facts(snapshot, account_id))


def _sharp_drop(snapshot: Snapshot, rule: Rule) -> Iterator[Finding]:
    min_drop = float(rule.param("min_drop_points"))
    for account_id, today in snapshot.health_today.items():
        change = today.get("score_change_7d")
        if change is not None and float(change) <= -min_drop:
            yield Finding(rule.name, account_id, snapshot.as_of.isoformat(),
                          f"Health dropped {abs(float(change)):.0f} points in 7 days",
                          _health_reasons(snapshot, account_id),
                          _health_facts(snapshot, account_id))


def _renewal_at_risk(snapshot: Snapshot, rule: Rule) -> Iterator[Finding]:
    window = int(rule.param("days_before_renewal"))
    for account_id, today in snapshot.health_today.items():
        renewal = _day(snapshot.accounts.get(account_id, {}).get("renewal_date"))
        if renewal is None or today.get("health_band") in (None, "healthy"):
            continue
        days_left = (renewal - snapshot.as_of).days
        if 0 <= days_left <= window:
            reasons = (f"renewal in {days_left} days, band {today['health_band']}",
                       *_health_reasons(snapshot, account_id))
            yield Finding(rule.name, account_id, renewal.isoformat(),
                          f"Renewal on {renewal.isoformat()} at risk "
                          f"({today['health_band'].replace('_', ' ')})", reasons,
                          {**_health_facts(snapshot, account_id),
                           "renewal_date": renewal.isoformat()})


def _payment_problem(snapshot: Snapshot, rule: Rule) -> Iterator[Finding]:
    min_overdue = int(rule.param("min_days_overdue"))
    for issue in snapshot.payment_issues:
        failed = int(issue.get("failed_attempts") or 0)
        overdue = int(issue.get("days_overdue") or 0)
        if failed == 0 and overdue <= min_overdue:
            continue
        reasons = [f"invoice {issue['invoice_id']} due {_day(issue.get('due_on'))}"]
        if failed:
            reasons.append(f"{failed} failed payment attempt{'s' if failed != 1 else ''}")
        if overdue:
            reasons.append(f"{overdue} days overdue")
        yield Finding(rule.name, str(issue["account_id"]), str(issue["invoice_id"]),
                      "Payment problem: invoice unpaid", tuple(reasons),
                      {"days_overdue": overdue, "failed_attempts": failed})


def _activation_overdue(snapshot: Snapshot, rule: Rule) -> Iterator[Finding]:
    for row in snapshot.activation_overdue:
        started = _day(row.get("started_on"))
        days = (snapshot.as_of - started).days if started else None
        yield Finding(rule.name, str(row["account_id"]), str(started),
                      f"Not activated {days} days after start", (
                          f"customer since {started}; the segment's rule allows "
                          f"{row.get('deadline_days')} days",), {"days_since_start": days})


def _touchpoint_due(snapshot: Snapshot, rule: Rule) -> Iterator[Finding]:
    open_statuses = set(rule.param("open_statuses"))
    for row in snapshot.touchpoints:
        if row.get("status") not in open_statuses:
            continue
        due = _day(row.get("due_on"))
        kind = str(row["touchpoint_type"])
        yield Finding(rule.name, str(row["account_id"]), f"{kind}@{due}",
                      f"{kind.replace('_', ' ').capitalize()} due {due}",
                      (f"lifecycle touchpoint {kind} is {row.get('status')}",),
                      {"touchpoint": kind.replace("_", " "), "due_on": str(due)})


def _key_contact_gone(snapshot: Snapshot, rule: Rule) -> Iterator[Finding]:
    roles = set(rule.param("roles"))
    silent_days = int(rule.param("silent_days"))
    for contact in snapshot.contacts:
        if contact.get("role") not in roles:
            continue
        role = str(contact["role"]).replace("_", " ")
        removed = _day(contact.get("removed_at"))
        engaged = _day(contact.get("last_engaged_at"))
        if removed is not None and removed <= snapshot.as_of:
            yield Finding(rule.name, str(contact["account_id"]),
                          f"{contact['contact_id']}:removed", f"The {role} left",
                          (f"{role} removed from the CRM on {removed}",), {"role": role})
        elif engaged is not None and (snapshot.as_of - engaged).days >= silent_days:
            days = (snapshot.as_of - engaged).days
            yield Finding(rule.name, str(contact["account_id"]),
                          f"{contact['contact_id']}:silent", f"The {role} went silent",
                          (f"{role} last engaged {days} days ago ({engaged})",), {"role": role})


def _expansion_signal(snapshot: Snapshot, rule: Rule) -> Iterator[Finding]:
    min_strength = float(rule.params.get("min_strength", 0))
    by_account: dict[str, list[dict[str, Any]]] = {}
    for signal in snapshot.expansion_signals:
        if float(signal.get("strength") or 0) >= min_strength:
            by_account.setdefault(str(signal["account_id"]), []).append(signal)
    for account_id, signals in by_account.items():
        signals.sort(key=lambda s: str(s["signal_type"]))
        value = sum(float(s.get("estimated_value") or 0) for s in signals)
        reasons = tuple(f"{s['signal_type'].replace('_', ' ')}: {s.get('evidence') or ''}"
                        .rstrip(": ") for s in signals)
        yield Finding(rule.name, account_id, snapshot.as_of.isoformat(),
                      f"Expansion signal (≈{value:,.0f} ARR)", reasons,
                      {"estimated_value": value,
                       "signal_types": [s["signal_type"] for s in signals]})


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


RULES: dict[str, Callable[[Snapshot, Rule], Iterator[Finding]]] = {
    "health_crossed_below": _crossed_below,
    "sharp_drop": _sharp_drop,
    "renewal_at_risk": _renewal_at_risk,
    "payment_problem": _payment_problem,
    "activation_overdue": _activation_overdue,
    "lifecycle_touchpoint_due": _touchpoint_due,
    "key_contact_gone": _key_contact_gone,
    "expansion_signal": _expansion_signal,
}
