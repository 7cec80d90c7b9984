"""`apply`: deliver every pending outbox row, exactly once per key.

Per batch of rows: commit them `sending`, deliver each, commit each outcome (`sent` with the
receipt, or `failed` with the reason). Anything tried before — including rows a killed run
left `sending` — is first looked up at the vendor (`Channel.find`): found means it landed,
record the receipt and move on. An ambiguous failure (the connection dropped after the
vendor may have applied the write) is resolved by the same lookup, never by sending again
in the dark; what the lookup cannot find stays `failed` and is looked up again first on the
next apply. Health fields go in batches (idempotent: setting a value twice is harmless).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csp.activation.db import Db
from csp.activation.deliver import Channel, LookupUnavailable
from csp.activation.outbox import (
    OutboxRow,
    ensure_outbox,
    mark_failed,
    mark_held,
    mark_sending,
    mark_sent,
    mark_superseded,
    pending,
)
from integrations.crm_writeback import HubSpotWriteback
from integrations.http import AmbiguousWriteError, VendorRequestError
from integrations.slack import SlackApiError, WebhookError
from integrations.slack.blocks import BlockKitError

DELIVERY_ERRORS = (VendorRequestError, SlackApiError, WebhookError, BlockKitError)
SENDS_PER_RUN = 2          # a send, and one resend after a lookup proved the first absent
# Rows marked `sending` per commit: a kill leaves at most this many rows to look up.
BATCH_SIZE = 50


@dataclass
class ApplyReport:
    """What one apply did; counts by outcome, and each failure's one-line reason."""

    sent: Counter[str] = field(default_factory=Counter)          # kind -> rows sent now
    found_already_delivered: int = 0     # tried before (or ambiguous) and found at the vendor
    failed: dict[str, str] = field(default_factory=dict)         # key -> reason
    seconds: float = 0.0
    http: dict[str, dict[str, Any]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"sent": dict(self.sent), "sent_total": sum(self.sent.values()),
                "found_already_delivered": self.found_already_delivered,
                "failed": len(self.failed), "failures": dict(list(self.failed.items())[:20]),
                "seconds": round(self.seconds, 3), "http": self.http}

    def lines(self) -> list[str]:
        out = [f"apply: {sum(self.sent.values())} sent "
               f"({', '.join(f'{n} {k}' for k, n in sorted(self.sent.items())) or 'none'}), "
               f"{self.found_already_delivered} found already delivered, "
               f"{len(self.failed)} failed, {self.seconds:.1f}s"]
        out += [f"! {key}: {reason}" for key, reason in self.failed.items()]
        for vendor, stats in self.http.items():
            out.append(f"  {vendor}: {stats.get('requests', 0)} requests, "
                       f"{stats.get('retries', 0)} retries, waited "
                       f"{stats.get('waited_seconds', 0)}s on limits/backoff")
        return out


def apply(db: Db, channels: Mapping[str, Channel], health: HubSpotWriteback | None,
          *, batch_size: int = BATCH_SIZE) -> ApplyReport:
    """Deliver the pending rows of the kinds there is a channel (or writer) for."""
    started = time.monotonic()
    ensure_outbox(db)
    report = ApplyReport()
    kinds = {*channels, *(("crm_field",) if health is not None else ())}
    rows = pending(db, kinds)
    one_by_one = [row for row in rows if row.kind != "crm_field"]
    for start in range(0, len(one_by_one), batch_size):
        batch = one_by_one[start:start + batch_size]
        with db.transaction():
            mark_sending(db, [row.key for row in batch])
        outcomes = [(row, _deliver(channels[row.kind], row)) for row in batch]
        with db.transaction():
            for row, outcome in outcomes:
                _record(db, row, outcome, report)
    if health is not None:
        _write_fields(db, health, [row for row in rows if row.kind == "crm_field"], report)
    report.seconds = time.monotonic() - started
    return report


@dataclass(frozen=True)
class _Outcome:
    """What happened to one row: sent now, found already delivered, failed, or held."""

    state: str                  # "sent" | "found" | "failed" | "held"
    detail: str                 # the receipt, or the reason


def _deliver(channel: Channel, row: OutboxRow) -> _Outcome:
    """One row, no database writes (the caller records the outcome).

    Anything tried before is looked up first. An ambiguous failure is looked up; only when
    the vendor provably does not have the action is it sent again — once, in this run; a
    second ambiguity leaves it for the next apply, which looks it up again.
    """
    tried_before = row.attempts > 0
    for attempt in range(1, SENDS_PER_RUN + 1):
        try:
            if tried_before:
                receipt = channel.find(row)
                if receipt is not None:
                    return _Outcome("found", receipt)
            return _Outcome("sent", channel.send(row))
        except AmbiguousWriteError as exc:
            tried_before = True
            if attempt == SENDS_PER_RUN:
                return _Outcome("failed", f"{exc}; will be looked up before any resend")
        except LookupUnavailable as exc:
            return _Outcome("held", f"outcome unknown, not resent: {exc}")
        except DELIVERY_ERRORS as exc:
            return _Outcome("failed", str(exc))
    raise AssertionError("unreachable: the last attempt returns")


def _record(db: Db, row: OutboxRow, outcome: _Outcome, report: ApplyReport) -> None:
    if outcome.state in ("sent", "found"):
        mark_sent(db, row.key, outcome.detail)
        if outcome.state == "sent":
            report.sent[row.kind] += 1
        else:
            report.found_already_delivered += 1
    elif outcome.state == "held":
        mark_held(db, row.key, outcome.detail)
        report.failed[row.key] = outcome.detail
    else:
        mark_failed(db, row.key, outcome.detail)
        report.failed[row.key] = outcome.detail


def _write_fields(db: Db, writer: HubSpotWriteback, rows: list[OutboxRow],
                  report: ApplyReport) -> None:
    """Company health fields in vendor-sized batches; every row ends sent or failed.

    Rows are oldest plan first, so when two pending rows name one company (a run that failed
    yesterday), the newest value wins and the older row is recorded as superseded.
    """
    by_company: dict[str, OutboxRow] = {}
    with db.transaction():
        for row in rows:
            older = by_company.get(row.payload["company_id"])
            if older is not None:
                mark_superseded(db, older.key, row.key)
            by_company[row.payload["company_id"]] = row
        mark_sending(db, [row.key for row in by_company.values()])
    done: set[str] = set()
    try:
        for outcome in writer.update_companies(
                [(cid, row.payload["properties"]) for cid, row in by_company.items()]):
            with db.transaction():
                for company_id in outcome.updated:
                    mark_sent(db, by_company[company_id].key, f"company:{company_id}")
                    report.sent["crm_field"] += 1
                for company_id in outcome.missing:
                    _record(db, by_company[company_id],
                            _Outcome("failed", f"company {company_id} not found"), report)
            done.update(outcome.updated + outcome.missing)
    except DELIVERY_ERRORS as exc:
        with db.transaction():
            for company_id, row in by_company.items():
                if company_id not in done:
                    _record(db, row, _Outcome("failed", str(exc)), report)
