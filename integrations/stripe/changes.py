"""How Stripe events keep the object tables current, and when events cannot be trusted to.

Stripe objects carry no "updated" time: a list filtered by `created` finds new objects, never
a subscription that changed last month. Changes reach the warehouse through the Events API
instead: each event's `data.object` is the whole object as it became, so it is merged into
the object's table like a freshly listed object.

Which version wins when one load holds an object twice (listed as new *and* changed by an
event read in the same run): the event's (`_csp_event_created` sorts it first; a listed row
has 0). That is the choice that cannot lose a change, whatever order the reads happen in:

- events read *after* the list include every change up to the moment they were read, so the
  newest event is at least as new as the listed version;
- events read *before* the list may be older than it, and then the row is one run behind —
  but the change that made the listed version newer happened after those events were read,
  so its own event is read (and merged) by the next run.

Preferring the listed version instead would, in the first case, keep an old state while the
event that carried the new one is consumed and never read again. Among events, each object
keeps only its newest version per run (the feed is read newest first), so two changes in the
same second cannot be merged in the wrong order.

The one thing events cannot carry is a change Stripe never announces: a coupon's
`times_redeemed` grows without an event. It is as of the coupon's last event or listing.

The window: Stripe keeps events for 30 days. If the newest event loaded by the last run is no
longer served, changes made in between may be gone from the feed; every object table is then
listed in full once (a "refresh", merged by primary key, so no row is dropped: a customer
deleted earlier keeps its `deleted` flag), and the run says so in the log. The verdict is
taken once per run, before this run records a newer event.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import dlt

from integrations.stripe.client import StripeClient
from integrations.stripe.settings import (
    CANCELED_STATUS,
    DELETED_COLUMN,
    DELETED_EVENT_SUFFIX,
    EVENT_CREATED_COLUMN,
    EVENT_ID_COLUMN,
    EVENT_RETENTION_DAYS,
    INITIAL_CREATED,
    KINDS_BY_NOUN,
    SKIPPED_EVENT_TYPES,
    SUBSCRIPTION_DELETED_EVENT,
    ObjectKind,
)

log = logging.getLogger(__name__)

FEED_STATE_KEY = "event_feed"
"""Source-state key of the newest event loaded: {"id": ..., "created": ...}."""


def listed_row(obj: Any) -> Any:
    """An object read from a list endpoint, with the columns an event-written row has too."""
    if not isinstance(obj, dict):
        return obj
    return {DELETED_COLUMN: False, **obj, EVENT_CREATED_COLUMN: 0, EVENT_ID_COLUMN: None}


def event_row(event: Any) -> tuple[ObjectKind, dict[str, Any]] | None:
    """The object row an event writes, or None when it is not a state of a loaded object.

    `customer.subscription.deleted` ends a subscription (it stays, canceled); any other
    `*.deleted` event flags the object `deleted` instead of dropping its row.
    """
    if not isinstance(event, Mapping):
        return None
    event_type, data = event.get("type"), event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(event_type, str) or event_type in SKIPPED_EVENT_TYPES \
            or not isinstance(obj, Mapping):
        return None
    kind = KINDS_BY_NOUN.get(str(obj.get("object")))
    if kind is None or not isinstance(obj.get("id"), str):
        return None
    row = dict(obj)
    if event_type == SUBSCRIPTION_DELETED_EVENT:
        row["status"] = CANCELED_STATUS
        row[DELETED_COLUMN] = False
    else:
        row[DELETED_COLUMN] = (row.get(DELETED_COLUMN) is True
                               or event_type.endswith(DELETED_EVENT_SUFFIX))
    row[EVENT_CREATED_COLUMN] = event.get("created")
    row[EVENT_ID_COLUMN] = event.get("id")
    return kind, row


class EventFeed:
    """What one run reads from the Events API: the window verdict and the object changes.

    One instance serves one run (one extraction of one source object); `begin` refuses a
    second, because the objects already written by this run are remembered. The resources
    reading lists run in parallel threads, so the verdict is taken under a lock.
    """

    def __init__(self, client: StripeClient) -> None:
        self.client = client
        self._begun = False
        self._gap: str | None = None
        self._gap_checked = False
        self._gap_lock = threading.Lock()
        self._written: set[tuple[str, str]] = set()

    def begin(self) -> None:
        """Called by the events resource before it reads anything."""
        if self._begun:
            raise RuntimeError("a stripe source object serves one run; call stripe_source() "
                               "again for the next one")
        self._begun = True
        self.gap()

    def gap(self) -> str | None:
        """Why events may be missing since the last run (None: the feed is whole).

        Taken once per run, from the state as the last run left it.
        """
        with self._gap_lock:
            if not self._gap_checked:
                self._gap = self._find_gap()
                self._gap_checked = True
            return self._gap

    def refresh_reason(self, object_cursor: int | None) -> str | None:
        """Why an object table must be listed in full this run (None: list only new ones)."""
        if object_cursor is None or object_cursor <= INITIAL_CREATED:
            return None                     # a first load lists everything anyway
        return self.gap()

    def record_newest(self, page: Sequence[Any]) -> None:
        """Remember the newest event of the first page read (committed with the data)."""
        for event in page:
            if (isinstance(event, Mapping) and isinstance(event.get("id"), str)
                    and isinstance(event.get("created"), int)):
                dlt.current.source_state()[FEED_STATE_KEY] = {
                    "id": event["id"], "created": event["created"]}
                return

    def changes(self, events: Sequence[Any]) -> dict[ObjectKind, list[dict[str, Any]]]:
        """The object rows a page of new events writes, per kind, newest version only."""
        rows: dict[ObjectKind, list[dict[str, Any]]] = {}
        for event in events:
            found = event_row(event)
            if found is None:
                continue
            kind, row = found
            key = (kind.table, row["id"])
            if key in self._written:
                continue
            self._written.add(key)
            rows.setdefault(kind, []).append(row)
        return rows

    def _find_gap(self) -> str | None:
        newest = dlt.current.source_state().get(FEED_STATE_KEY)
        if not newest:
            return "no Stripe event has been loaded yet, so changes since the last listing " \
                   "are unknown"
        if self.client.event_retained(newest["id"]):
            return None
        when = datetime.fromtimestamp(newest["created"], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return (f"the newest event loaded before ({newest['id']}, created {when}) is no "
                f"longer served: Stripe keeps events {EVENT_RETENTION_DAYS} days, so changes "
                f"made since may be missing from the event feed")
