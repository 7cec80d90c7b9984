"""Why an action is not sent: cool-down, snooze, or a churned account.

`suppression_reason` is pure (history and snoozes passed in), so each reason is tested on
plain rows; the snooze table's reads and writes sit beside it because the CLI and the planner
share them. A suppressed action is still written to the outbox — with its reason — so the
plan shows what was held back and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from csp.activation.actions import Action
from csp.activation.db import Db
from csp.activation.outbox import ensure_outbox, now
from csp.activation.rules import RuleBook

ALL_RULES = "*"


def is_churned(account: Mapping[str, Any] | None) -> bool:
    """Churned = dim_accounts says it pays nothing now (mrr 0). Unknown MRR is not churn."""
    return account is not None and account.get("mrr") is not None and float(account["mrr"]) == 0


def suppression_reason(action: Action, book: RuleBook, account: Mapping[str, Any] | None,
                       history: Sequence[Mapping[str, Any]],
                       snoozes: Mapping[tuple[str, str], date]) -> str | None:
    """Why `action` must not go out now, or None when it may."""
    if is_churned(account):
        return "account churned"
    for rule in (action.rule, ALL_RULES):
        until = snoozes.get((action.account_id, rule))
        if until is not None and until >= action.as_of:
            return f"snoozed until {until.isoformat()}"
    configured = book.rules.get(action.rule)
    cooldown = configured.cooldown_days if configured is not None else 0
    if cooldown > 0:
        window_start = action.as_of - timedelta(days=cooldown)
        for row in history:
            if (row["account_id"] == action.account_id and row["rule"] == action.rule
                    and row["kind"] == action.kind and row["key"] != action.key
                    and _day(row["as_of"]) > window_start):
                return f"cool-down: {row['key']} on {_day(row['as_of'])} ({cooldown} days)"
    return None


def active_snoozes(db: Db, as_of: date) -> dict[tuple[str, str], date]:
    rows = db.query("select account_id, rule, snoozed_until from ops.snoozes "
                    "where snoozed_until >= %s", (as_of,))
    return {(row["account_id"], row["rule"]): _day(row["snoozed_until"]) for row in rows}


def snooze(db: Db, account_id: str, rule: str, until: date, reason: str) -> None:
    """Hold `rule` (or every rule: "*") for `account_id` until `until`, inclusive."""
    ensure_outbox(db)
    db.execute("delete from ops.snoozes where account_id = %s and rule = %s",
               (account_id, rule))
    db.execute("insert into ops.snoozes (account_id, rule, snoozed_until, reason, created_at) "
               "values (%s, %s, %s, %s, %s)", (account_id, rule, until, reason, now()))
    db.commit()


def unsnooze(db: Db, account_id: str, rule: str) -> int:
    before = len(db.query("select 1 as one from ops.snoozes where account_id = %s and rule = %s",
                          (account_id, rule)))
    db.execute("delete from ops.snoozes where account_id = %s and rule = %s", (account_id, rule))
    db.commit()
    return before


def list_snoozes(db: Db) -> list[dict[str, Any]]:
    return db.query("select account_id, rule, snoozed_until, reason from ops.snoozes "
                    "order by account_id, rule")


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
