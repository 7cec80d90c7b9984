"""The Stripe source: billing objects and their history into `raw_stripe`, incrementally.

`stripe_source(config)` returns a dlt source named `stripe` with these resources (the
incremental contract of each is in `settings`):

- `customers`, `subscriptions`, `invoices`, `charges`, `prices`, `products`, `coupons`:
  table of the same name, primary key `id`, cursor `created` (initial 0), merge;
- `events`: primary key `id`, cursor `created` (initial 0), append;
- `object_changes`, a transformer of `events` with no cursor of its own (it sees only the
  events new to the events cursor): writes into the object tables, primary key `id`, merge.

New objects are listed by `created` (`created[gte]` = the cursor, newest first, paged with
`starting_after`; the cursor is the largest `created` seen, and the objects sitting on it are
read again and dropped by dlt as already loaded). Later changes and deletions arrive through
the Events API: `events` reads every event since its own cursor (again `created[gte]`,
de-duplicated by event id) into the append-only `events` table — the history of
`previous_attributes` the MRR models read — and `object_changes` merges each new event's
`data.object` into its object table (see `changes` for why an event's version wins, and for
the 30-day event window that triggers a full listing). Subscriptions are listed with
`status=all`, since the default list hides canceled ones; invoices carry all their lines.

The eight list readers run in parallel threads (dlt's `parallelized`), one page in flight
each, sharing the session and so its rate limiter: Stripe answers a page in a few hundred
milliseconds, and reading eight lists one after the other would leave most of the allowed
rate unused. Sharing one `requests` session is safe here: every call is a GET, headers are
passed per request, Stripe sets no cookies, and the session's counters and limiter are locked.

Identity keys stay in their columns: `customers.metadata__workspace_id`,
`metadata__hubspot_company_id`, `metadata__salesforce_account_id`, `email`, and `customer` on
subscriptions, invoices and charges.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import dlt
from dlt.extract import DltResource, DltSource

from csp.settings import VendorConfig
from integrations.contracts import CheckedPage, apply_contract
from integrations.http import VendorSession, create_session
from integrations.stripe.changes import EventFeed, listed_row
from integrations.stripe.client import StripeClient
from integrations.stripe.settings import (
    CURSOR_FIELD,
    EVENT_COLUMNS,
    EVENT_DISPOSITION,
    EVENTS_CONTRACT,
    EVENTS_PATH,
    INITIAL_CREATED,
    LINES_PAGE_SIZE,
    OBJECT_COLUMNS,
    OBJECT_DISPOSITION,
    OBJECT_KINDS,
    PAGE_SIZE,
    PRIMARY_KEY,
    SOURCE,
    ObjectKind,
)

__all__ = ["stripe_source"]

log = logging.getLogger(__name__)


def stripe_source(config: VendorConfig, *, session: VendorSession | None = None,
                  page_size: int = PAGE_SIZE, lines_page_size: int = LINES_PAGE_SIZE,
                  ) -> DltSource:
    """The `stripe` dlt source for one run, reading the API at `config.base_url`.

    `session` lets the caller share a limiter or read the HTTP counters afterwards; by default
    one is made with `config.rate_limit`. Page sizes are tuning only (Stripe allows 1-100).
    """
    api_key = config.credentials.get("api_key")
    if api_key is None:
        raise ValueError(f"{SOURCE}: no API key configured (set CSP_STRIPE_API_KEY)")
    http = session or create_session(SOURCE, rate_limit=config.rate_limit)
    client = StripeClient(http, config.base_url, api_key, page_size=page_size,
                          lines_page_size=lines_page_size)
    feed = EventFeed(client)

    @dlt.source(name=SOURCE)
    def stripe() -> list[DltResource]:
        events = events_resource(client, feed)
        return [events, object_changes_resource(events, client, feed),
                *(object_resource(kind, client, feed) for kind in OBJECT_KINDS)]

    return stripe()


def created_filter(cursor: int | None) -> dict[str, str | int]:
    """`created[gte]` from a cursor; nothing on a first run (Stripe's whole list)."""
    if cursor is None or cursor <= INITIAL_CREATED:
        return {}
    return {f"{CURSOR_FIELD}[gte]": cursor}


def object_resource(kind: ObjectKind, client: StripeClient, feed: EventFeed) -> DltResource:
    """New objects of one kind by `created`; all of them when the event feed has a gap."""

    # dlt's idiom: the incremental is declared as the argument's default (B008 by design).
    @dlt.resource(name=kind.table, primary_key=PRIMARY_KEY,
                  write_disposition=OBJECT_DISPOSITION, columns=kind.columns(),
                  parallelized=True)
    def objects(created: dlt.sources.incremental[int] = dlt.sources.incremental(  # noqa: B008
            CURSOR_FIELD, initial_value=INITIAL_CREATED, on_cursor_value_missing="include"),
                ) -> Iterator[list[Any]]:
        params: dict[str, str | int] = dict(kind.list_params)
        reason = feed.refresh_reason(created.start_value)
        if reason is None:
            params.update(created_filter(created.start_value))
        else:
            log.warning("%s.%s: listing every object (full refresh): %s", SOURCE, kind.table,
                        reason)
            # dlt drops rows below the stored cursor; a refresh must let old objects through.
            created.start_value = created.initial_value
        for page in client.list_pages(kind.path, params, table=kind.table):
            yield [with_all_lines(kind, client, listed_row(obj)) for obj in page]

    return apply_contract(objects(), kind.contract)


def events_resource(client: StripeClient, feed: EventFeed) -> DltResource:
    """Every event since the cursor, appended once each: the history the MRR models read."""

    @dlt.resource(name="events", primary_key=PRIMARY_KEY, write_disposition=EVENT_DISPOSITION,
                  columns=EVENT_COLUMNS, parallelized=True)
    def events(created: dlt.sources.incremental[int] = dlt.sources.incremental(  # noqa: B008
            CURSOR_FIELD, initial_value=INITIAL_CREATED, on_cursor_value_missing="include"),
               ) -> Iterator[list[Any]]:
        feed.begin()
        pages = client.list_pages(EVENTS_PATH, created_filter(created.start_value),
                                  table="events")
        for number, page in enumerate(pages):
            if number == 0:
                feed.record_newest(page)
            yield [with_object_columns(event) for event in page]

    return apply_contract(events(), EVENTS_CONTRACT)


def object_changes_resource(events: DltResource, client: StripeClient,
                            feed: EventFeed) -> DltResource:
    """Each new event's `data.object`, merged into its object table (newest per run)."""

    @dlt.transformer(data_from=events, name="object_changes", primary_key=PRIMARY_KEY,
                     write_disposition=OBJECT_DISPOSITION, columns=OBJECT_COLUMNS)
    def object_changes(page: list[Any]) -> Iterator[Any]:
        for kind, rows in feed.changes(page).items():
            checked = kind.contract.check_page([with_all_lines(kind, client, row)
                                                for row in rows])
            if checked.valid:
                yield dlt.mark.with_table_name(checked.valid, kind.table)
            yield from CheckedPage(quarantined=checked.quarantined).items()

    return object_changes


def with_all_lines(kind: ObjectKind, client: StripeClient, row: Any) -> Any:
    """An object as the warehouse keeps it: an invoice with every line, not the first 10."""
    if kind.table == "invoices" and isinstance(row, dict):
        client.complete_invoice_lines(row)
    return row


def with_object_columns(event: Any) -> Any:
    """An event with the id and type of its object as columns (its payload stays JSON)."""
    if not isinstance(event, dict):
        return event
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        return event
    return {**event, "object_id": obj.get("id"), "object_type": obj.get("object")}
