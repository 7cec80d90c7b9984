"""What the planner needs from the warehouse, read once with plain portable SQL.

The planner is pure Python over these rows, so its logic is tested on hand-built tables and
the SQL here stays a handful of selects on the public marts (DESIGN.md §6) and the shared
intermediate models. A relation that is not built yet does not fail the run: the rules that
need it are skipped and the plan says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from csp.activation.db import Db

HEALTH = "marts.fct_account_health_daily"
ACCOUNTS = "marts.dim_accounts"
EXPANSION = "marts.fct_expansion_signals"
TOUCHPOINTS = "marts.fct_lifecycle_touchpoints"
PAYMENT_ISSUES = "intermediate.int_billing__payment_issues"
ACTIVATION = "intermediate.int_accounts__activation"
CONTACTS = "intermediate.int_contacts"

HEALTH_COLUMNS = ("account_id", "date", "health_score", "health_band", "score_change_7d",
                  "score_change_30d", "main_driver", "missing_components")
COMPONENTS = ("usage_frequency", "feature_depth", "data_growth", "support_load", "payment",
              "nps", "engagement")
ACCOUNT_COLUMNS = ("account_id", "account_name", "segment", "csm_id", "csm_email", "mrr",
                   "arr", "renewal_date", "crm_account_id")
# Which relations each rule reads besides dim_accounts.
RULE_SOURCES = {
    "health_crossed_below": (HEALTH,), "sharp_drop": (HEALTH,),
    "renewal_at_risk": (HEALTH,), "payment_problem": (PAYMENT_ISSUES,),
    "activation_overdue": (ACTIVATION,), "lifecycle_touchpoint_due": (TOUCHPOINTS,),
    "key_contact_gone": (CONTACTS,), "expansion_signal": (EXPANSION,),
}


class SnapshotError(RuntimeError):
    """The warehouse cannot be planned from at all (no accounts or no health mart)."""


@dataclass
class Snapshot:
    """Rows as of one day, keyed for the planner."""

    as_of: date
    accounts: dict[str, dict[str, Any]]
    health_today: dict[str, dict[str, Any]] = field(default_factory=dict)
    health_yesterday: dict[str, dict[str, Any]] = field(default_factory=dict)
    health_week_ago: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_issues: list[dict[str, Any]] = field(default_factory=list)
    activation_overdue: list[dict[str, Any]] = field(default_factory=list)
    touchpoints: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    expansion_signals: list[dict[str, Any]] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)    # relation -> why it is absent


def read_snapshot(db: Db, as_of: date | None = None, *, touchpoint_days_ahead: int = 7,
                  ) -> Snapshot:
    """Every row the rules read, as of `as_of` (default: the health mart's newest day)."""
    for required in (ACCOUNTS, HEALTH):
        if not db.table_exists(required):
            raise SnapshotError(f"{required} does not exist: run `csp transform` first")
    if as_of is None:
        newest = db.query(f"select max(date) as d from {HEALTH}")[0]["d"]
        if newest is None:
            raise SnapshotError(f"{HEALTH} has no rows: nothing to plan from")
        as_of = _as_date(newest)
    snapshot = Snapshot(as_of=as_of, accounts=_accounts(db))
    for offset, target in ((0, snapshot.health_today), (1, snapshot.health_yesterday),
                           (7, snapshot.health_week_ago)):
        target.update(_health_on(db, as_of - timedelta(days=offset)))
    readers = (
        (PAYMENT_ISSUES, "payment_issues", _payment_issues),
        (ACTIVATION, "activation_overdue", _activation_overdue),
        (TOUCHPOINTS, "touchpoints",
         lambda d, day: _touchpoints(d, day, touchpoint_days_ahead)),
        (CONTACTS, "contacts", _contacts),
        (EXPANSION, "expansion_signals", _expansion),
    )
    for relation, attribute, reader in readers:
        if db.table_exists(relation):
            setattr(snapshot, attribute, reader(db, as_of))
        else:
            snapshot.missing[relation] = "not built yet"
    return snapshot


def _accounts(db: Db) -> dict[str, dict[str, Any]]:
    available = db.columns(ACCOUNTS)
    wanted = [column for column in ACCOUNT_COLUMNS if column in available]
    for optional in ("csm_name", "csm_slack_id", "lifecycle_stage", "plan", "seats"):
        if optional in available:
            wanted.append(optional)
    rows = db.query(f"select {', '.join(wanted)} from {ACCOUNTS}")
    return {str(row["account_id"]): row for row in rows}


def _health_on(db: Db, day: date) -> dict[str, dict[str, Any]]:
    columns = [*HEALTH_COLUMNS, *(f"{name}_score" for name in COMPONENTS)]
    rows = db.query(f"select {', '.join(columns)} from {HEALTH} where date = %s", (day,))
    return {str(row["account_id"]): row for row in rows}


def _payment_issues(db: Db, as_of: date) -> list[dict[str, Any]]:
    return db.query(f"select account_id, invoice_id, due_on, paid_on, failed_attempts, "
                    f"days_overdue from {PAYMENT_ISSUES} where paid_on is null")


def _activation_overdue(db: Db, as_of: date) -> list[dict[str, Any]]:
    return db.query(f"select account_id, started_on, deadline_days from {ACTIVATION} "
                    f"where activation_status = 'overdue'")


def _touchpoints(db: Db, as_of: date, days_ahead: int) -> list[dict[str, Any]]:
    return db.query(f"select account_id, touchpoint_type, due_on, status from {TOUCHPOINTS} "
                    f"where due_on <= %s", (as_of + timedelta(days=days_ahead),))


def _contacts(db: Db, as_of: date) -> list[dict[str, Any]]:
    return db.query(f"select contact_id, account_id, role, last_engaged_at, removed_at "
                    f"from {CONTACTS} where role in ('decision_maker', 'champion')")


def _expansion(db: Db, as_of: date) -> list[dict[str, Any]]:
    return db.query(f"select account_id, date, signal_type, strength, evidence, "
                    f"estimated_value from {EXPANSION} where date = %s", (as_of,))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
