"""What activation does, as data: an alert that fired, and the actions that deliver it.

A `Finding` is one rule firing for one account in one period, with the reasons a CSM reads.
An `Action` is one side effect (a Slack message, a CRM task, a CRM field write) with a key
that is the same every time the same marts are planned — the outbox's primary key, and the
CRM's external id — so re-planning never creates a second delivery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

KINDS = ("slack", "crm_task", "crm_field")
UNSAFE_KEY_CHARACTERS = re.compile(r"[^A-Za-z0-9_.:-]")


@dataclass(frozen=True)
class Finding:
    """One rule fired for one account in one period."""

    rule: str
    account_id: str
    period: str                      # what makes this firing distinct: a day, an invoice…
    headline: str                    # one line: what happened
    reasons: tuple[str, ...]         # why it fired: the components or facts that moved
    facts: dict[str, Any] = field(default_factory=dict)   # values the message shows


@dataclass(frozen=True)
class Action:
    """One delivery: kind, stable key, and the exact payload to send."""

    key: str
    kind: str
    rule: str
    account_id: str
    period: str
    as_of: date
    payload: dict[str, Any]
    destination: str                 # who/where, for the plan's diff ("csm:a@x", "#cs-leads")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown action kind {self.kind!r}")


def action_key(kind: str, rule: str, account_id: str, period: str, audience: str = "") -> str:
    """The stable key: (kind, rule, account, period[, audience]) joined — readable in a CRM,
    and safe in a URL path (HubSpot reads a task back by it: `/tasks/{key}?idProperty=`)."""
    parts = ["csp", kind, rule, account_id, period] + ([audience] if audience else [])
    return UNSAFE_KEY_CHARACTERS.sub("-", ":".join(parts))
