"""The outbox: every planned action and its delivery state, in the warehouse (`ops.outbox`).

One row per action key. Status moves planned → sending → sent (or failed, retried on the
next apply), or is suppressed/digested at plan time with the reason in `error`/`receipt`.
`sending` is committed *before* the outside calls (for a batch of rows at once) and `sent`
(with Slack's ts or the CRM id as the receipt) after them, so a run killed in between leaves
rows that say "this may have gone out": the next apply looks them up at the vendor instead of
sending them again. Batching the state writes (one commit per batch, not two per action) is
what makes 10,000 actions cheap on DuckDB, and costs nothing in safety: whatever a kill
leaves `sending` is looked up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from csp.activation.actions import Action
from csp.activation.db import Db

STATUSES = ("planned", "sending", "sent", "failed", "suppressed", "digested")
PENDING = ("planned", "sending", "failed")
# Rows that count as "this alert already reached (or is on its way to) its audience".
DELIVERED_OR_DUE = ("planned", "sending", "sent", "digested")
MAX_ATTEMPTS = 5

DDL = (
    "create schema if not exists ops",
    """create table if not exists ops.outbox (
        key varchar primary key,
        kind varchar not null,
        rule varchar not null,
        account_id varchar not null,
        period varchar not null,
        as_of date not null,
        destination varchar,
        payload text not null,
        status varchar not null,
        receipt varchar,
        attempts integer not null,
        error text,
        planned_at timestamp not null,
        first_attempt_at timestamp,
        sent_at timestamp,
        updated_at timestamp not null
    )""",
    """create table if not exists ops.snoozes (
        account_id varchar not null,
        rule varchar not null,
        snoozed_until date not null,
        reason text,
        created_at timestamp not null,
        primary key (account_id, rule)
    )""",
)


@dataclass(frozen=True)
class OutboxRow:
    """A row as apply reads it."""

    key: str
    kind: str
    rule: str
    account_id: str
    payload: dict[str, Any]
    status: str
    attempts: int
    first_attempt_at: datetime | None


def now() -> datetime:
    """UTC now without tzinfo: both engines store `timestamp` naive, we store UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_outbox(db: Db) -> None:
    for statement in DDL:
        db.execute(statement)
    db.commit()


def existing_keys(db: Db, keys: Iterable[str]) -> dict[str, str]:
    """{key: status} for those of `keys` already in the outbox."""
    wanted = list(keys)
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        placeholders = ", ".join(["%s"] * len(chunk))
        rows = db.query(f"select key, status from ops.outbox where key in ({placeholders})",
                        chunk)
        found.update({row["key"]: row["status"] for row in rows})
    return found


def recent_deliveries(db: Db, since: date) -> list[dict[str, Any]]:
    """(account_id, rule, kind, key, as_of) of rows delivered or due since `since`."""
    placeholders = ", ".join(["%s"] * len(DELIVERED_OR_DUE))
    return db.query(f"select account_id, rule, kind, key, as_of from ops.outbox "
                    f"where as_of >= %s and status in ({placeholders})",
                    (since, *DELIVERED_OR_DUE))


def last_health_writes(db: Db) -> dict[str, dict[str, str]]:
    """The properties last planned or written per account (a re-plan skips unchanged ones)."""
    rows = db.query("select account_id, payload, as_of, planned_at from ops.outbox "
                    "where kind = 'crm_field' and status in ('planned', 'sending', 'sent') "
                    "order by as_of, planned_at")
    return {row["account_id"]: json.loads(row["payload"])["properties"] for row in rows}


def insert_actions(db: Db, actions: Iterable[tuple[Action, str, str | None, str | None]]) -> int:
    """Insert (action, status, receipt, reason) rows whose key is new; returns how many."""
    stamp = now()
    rows = [(a.key, a.kind, a.rule, a.account_id, a.period, a.as_of, a.destination,
             json.dumps(a.payload, sort_keys=True, default=str), status, receipt, 0, reason,
             stamp, stamp) for a, status, receipt, reason in actions]
    db.insert_rows(
        "insert into ops.outbox (key, kind, rule, account_id, period, as_of, destination, "
        "payload, status, receipt, attempts, error, planned_at, updated_at) values", rows,
        suffix="on conflict (key) do nothing")
    db.commit()
    return len(rows)


def pending(db: Db, kinds: Iterable[str] | None = None) -> list[OutboxRow]:
    """Rows apply must still deliver (retryable failures included), oldest plan first."""
    placeholders = ", ".join(["%s"] * len(PENDING))
    rows = db.query(
        f"select key, kind, rule, account_id, payload, status, attempts, first_attempt_at "
        f"from ops.outbox where status in ({placeholders}) and attempts < %s "
        f"order by planned_at, key", (*PENDING, MAX_ATTEMPTS))
    wanted = set(kinds) if kinds is not None else None
    return [OutboxRow(row["key"], row["kind"], row["rule"], row["account_id"],
                      json.loads(row["payload"]), row["status"], int(row["attempts"]),
                      row["first_attempt_at"])
            for row in rows if wanted is None or row["kind"] in wanted]


# The mark_* functions do not commit: apply groups them in `Db.transaction()`s.

def mark_sending(db: Db, keys: list[str]) -> None:
    """Before the outside calls: from here on, these actions may have gone out."""
    if not keys:
        return
    stamp = now()
    placeholders = ", ".join(["%s"] * len(keys))
    db.execute(f"update ops.outbox set status = 'sending', attempts = attempts + 1, "
               f"first_attempt_at = coalesce(first_attempt_at, %s), updated_at = %s "
               f"where key in ({placeholders})", (stamp, stamp, *keys))


def mark_sent(db: Db, key: str, receipt: str) -> None:
    stamp = now()
    db.execute("update ops.outbox set status = 'sent', receipt = %s, error = null, "
               "sent_at = %s, updated_at = %s where key = %s", (receipt, stamp, stamp, key))


def mark_failed(db: Db, key: str, error: str) -> None:
    db.execute("update ops.outbox set status = 'failed', error = %s, updated_at = %s "
               "where key = %s", (error[:1000], now(), key))


def mark_held(db: Db, key: str, reason: str) -> None:
    """Failed and out of automatic retries: whether it landed cannot be checked, so only an
    operator may send it again (set status back to 'planned' and attempts to 0)."""
    db.execute("update ops.outbox set status = 'failed', attempts = %s, error = %s, "
               "updated_at = %s where key = %s", (MAX_ATTEMPTS, reason[:1000], now(), key))


def mark_superseded(db: Db, key: str, by_key: str) -> None:
    """A field write overtaken by a newer value for the same record before it was sent."""
    db.execute("update ops.outbox set status = 'suppressed', error = %s, updated_at = %s "
               "where key = %s", (f"superseded by {by_key}", now(), key))


def counts(db: Db) -> dict[str, int]:
    """Rows per status (for reports)."""
    rows = db.query("select status, count(*) as n from ops.outbox group by status")
    return {row["status"]: int(row["n"]) for row in rows}
