"""The Zendesk Support source: tickets, metrics, users, organizations, ratings -> raw_zendesk.

`zendesk_source(config)` is a dlt source named `zendesk` (so it lands in `raw_zendesk`). Every
table is merged on `id`; every incremental position lives in the pipeline state, which the
loader commits in the same load package as the rows fetched with it.

| table | how changes are found | state |
|---|---|---|
| tickets | cursor-based incremental ticket export | `after_cursor` of the last page |
| ticket_metrics | side-loaded by that same export (`include=metric_sets`) | (the ticket cursor) |
| users | cursor-based incremental user export | `after_cursor` of the last page |
| organizations | time-based incremental organization export | last `updated_at` |
| satisfaction_ratings | ratings list filtered on update time (`start_time`) | last `updated_at` |

Why these choices:
- The ticket and user exports resume from the vendor's own cursor, an exact (update time, id)
  position: a block of any size sharing one `updated_at` is exported once, neither skipped
  nor re-read, which no timestamp-based restart can promise. The cursor is kept in the
  resource state (`after_cursor`), written after each page and committed with the data.
- Ticket metrics have no change filter of their own (`/ticket_metrics` lists everything, every
  run). Side-loading them on the ticket export costs no request and brings exactly the
  metrics of the tickets that changed. They carry no cursor filter of their own: a metric's
  `updated_at` need not grow in export order, and filtering on it would drop metrics.
- Organizations: the time-based export, not a full listing. A full list costs a request per
  100 organizations on every run (1,000 requests at 100k accounts); the export costs one when
  nothing changed. Its last second is inclusive, so the run after repeats that second's
  records; dlt's incremental drops the ones already loaded (deduplicated on `id` at the
  boundary) and a merge on `id` would absorb any that got through. Deleted organizations
  come through the export too (with `deleted_at`).
- The dlt incrementals of the exports filter nothing they should keep: tickets are exported
  in `generated_timestamp` order (not `updated_at`, which a system update does not move),
  users in `updated_at` order; deduplication at their boundary is off (`primary_key=()`)
  because the vendor's cursor already prevents repeats, and a same-second second change of
  one record must not be dropped as a duplicate.

Identity keys kept as raw columns: organization `external_id` (the workspace id the CRM and
Stripe also carry) and `domain_names` (child table `organizations__domain_names`); user
`email` and `organization_id`; ticket and rating `organization_id`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.extract import DltResource, DltSource

from csp.settings import VendorConfig
from integrations.contracts import apply_contract
from integrations.http import VendorSession
from integrations.zendesk import settings as zd
from integrations.zendesk.auth import basic_auth_header, zendesk_session
from integrations.zendesk.paging import cursor_export, cursor_list, time_export

__all__ = ["ZendeskTuning", "zendesk_session", "zendesk_source"]

CURSOR_STATE_KEY = "after_cursor"


@dataclass(frozen=True)
class ZendeskTuning:
    """Knobs a caller may turn (`zendesk_source(config, **tuning)`); defaults are Zendesk's
    maxima, so a production run makes as few requests as the API allows."""

    start_time: int = zd.INITIAL_START_TIME
    export_page_size: int = zd.EXPORT_PAGE_SIZE
    list_page_size: int = zd.LIST_PAGE_SIZE

    def __post_init__(self) -> None:
        if not 1 <= self.export_page_size <= zd.EXPORT_PAGE_SIZE_MAX:
            raise ValueError(f"zendesk: export_page_size must be 1..{zd.EXPORT_PAGE_SIZE_MAX}")
        if not 1 <= self.list_page_size <= zd.LIST_PAGE_SIZE_MAX:
            raise ValueError(f"zendesk: list_page_size must be 1..{zd.LIST_PAGE_SIZE_MAX}")
        if self.start_time < 0:
            raise ValueError("zendesk: start_time must be a Unix time (seconds, >= 0)")

    @property
    def start_iso(self) -> str:
        """`start_time` as Zendesk writes `updated_at` (the incrementals' initial value)."""
        return datetime.fromtimestamp(self.start_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zendesk_source(config: VendorConfig, *, session: VendorSession | None = None,
                   **tuning: Any) -> DltSource:
    """The `zendesk` dlt source for one Zendesk account.

    `session` defaults to `zendesk_session(config)` (basic auth, the config's rate limit); a
    session passed in (to share its limiter or read its `stats`) gets the same auth header.
    `tuning`: see `ZendeskTuning`.
    """
    options = ZendeskTuning(**tuning)
    if session is None:
        http = zendesk_session(config)
    else:
        http = session
        http.headers.update(basic_auth_header(config))
    base_url = config.base_url.rstrip("/")

    @dlt.source(name=zd.VENDOR)
    def zendesk() -> tuple[DltResource, ...]:
        export = ticket_export_resource(http, base_url + zd.TICKETS_EXPORT_PATH, options)
        return (tickets_resource(export, options), ticket_metrics_resource(export),
                users_resource(http, base_url + zd.USERS_EXPORT_PATH, options),
                organizations_resource(http, base_url + zd.ORGANIZATIONS_EXPORT_PATH, options),
                satisfaction_ratings_resource(http, base_url + zd.SATISFACTION_RATINGS_PATH,
                                              options))

    source: DltSource = zendesk()
    return source


def ticket_export_resource(session: VendorSession, url: str, options: ZendeskTuning,
                           ) -> DltResource:
    """The ticket export's pages (tickets + metric sets), feeding `tickets` and
    `ticket_metrics`; not a table itself. Holds the export cursor in its resource state."""

    @dlt.resource(name="ticket_export", selected=False)
    def ticket_export() -> Iterator[dict[str, list[Any]]]:
        state = dlt.current.resource_state()
        for page in cursor_export(session, url, key="tickets", start_time=options.start_time,
                                  cursor=state.get(CURSOR_STATE_KEY),
                                  per_page=options.export_page_size,
                                  extra={"include": zd.TICKETS_EXPORT_INCLUDE}):
            if page.records:
                metric_sets = page.body.get("metric_sets")
                yield {"tickets": page.records,
                       "metric_sets": metric_sets if isinstance(metric_sets, list) else []}
            if page.after_cursor:
                state[CURSOR_STATE_KEY] = page.after_cursor

    return ticket_export()


def tickets_resource(export: DltResource, options: ZendeskTuning) -> DltResource:
    """`tickets`: merged on `id`; position = the export cursor (see the module docstring)."""

    # dlt's idiom: the incremental is declared as the argument's default (B008 by design).
    @dlt.transformer(data_from=export, name="tickets", primary_key="id",
                     write_disposition="merge", columns=zd.TICKETS_COLUMNS)
    def tickets(page: dict[str, list[Any]],
                generated: dlt.sources.incremental[int] = dlt.sources.incremental(  # noqa: B008
                    "generated_timestamp", initial_value=options.start_time, primary_key=(),
                    on_cursor_value_missing="include"),
                ) -> Iterator[list[Any]]:
        yield page["tickets"]

    return apply_contract(tickets, zd.TICKETS_CONTRACT)


def ticket_metrics_resource(export: DltResource) -> DltResource:
    """`ticket_metrics`: merged on `id`; arrives with the tickets that changed, so the ticket
    export's cursor is its position (no cursor of its own: see the module docstring)."""

    @dlt.transformer(data_from=export, name="ticket_metrics", primary_key="id",
                     write_disposition="merge", columns=zd.TICKET_METRICS_COLUMNS)
    def ticket_metrics(page: dict[str, list[Any]]) -> Iterator[list[Any]]:
        if page["metric_sets"]:
            yield page["metric_sets"]

    return apply_contract(ticket_metrics, zd.TICKET_METRICS_CONTRACT)


def users_resource(session: VendorSession, url: str, options: ZendeskTuning) -> DltResource:
    """`users`: merged on `id`, from the cursor-based user export (cursor in resource state)."""

    @dlt.resource(name="users", primary_key="id", write_disposition="merge",
                  columns=zd.USERS_COLUMNS)
    def users(updated_at: dlt.sources.incremental[str] = dlt.sources.incremental(  # noqa: B008
            "updated_at", initial_value=options.start_iso, primary_key=(),
            on_cursor_value_missing="include"),
              ) -> Iterator[list[Any]]:
        state = dlt.current.resource_state()
        for page in cursor_export(session, url, key="users", start_time=options.start_time,
                                  cursor=state.get(CURSOR_STATE_KEY),
                                  per_page=options.export_page_size):
            if page.records:
                yield page.records
            if page.after_cursor:
                state[CURSOR_STATE_KEY] = page.after_cursor

    return apply_contract(users(), zd.USERS_CONTRACT)


def organizations_resource(session: VendorSession, url: str, options: ZendeskTuning,
                           ) -> DltResource:
    """`organizations`: merged on `id`, from the time-based export since the last
    `updated_at` loaded (inclusive; repeats at that second are dropped on `id`)."""

    @dlt.resource(name="organizations", primary_key="id", write_disposition="merge",
                  columns=zd.ORGANIZATIONS_COLUMNS)
    def organizations(updated_at: dlt.sources.incremental[str] = dlt.sources.incremental(  # noqa: B008
            "updated_at", initial_value=options.start_iso, on_cursor_value_missing="include"),
                      ) -> Iterator[list[Any]]:
        for page in time_export(session, url, key="organizations",
                                start_time=unix_seconds(updated_at.start_value),
                                per_page=options.export_page_size):
            if page:
                yield page

    return apply_contract(organizations(), zd.ORGANIZATIONS_CONTRACT)


def satisfaction_ratings_resource(session: VendorSession, url: str, options: ZendeskTuning,
                                  ) -> DltResource:
    """`satisfaction_ratings`: merged on `id`, listed with `start_time` = the last
    `updated_at` loaded (inclusive; repeats at that second are dropped on `id`)."""

    @dlt.resource(name="satisfaction_ratings", primary_key="id", write_disposition="merge",
                  columns=zd.SATISFACTION_RATINGS_COLUMNS)
    def satisfaction_ratings(
            updated_at: dlt.sources.incremental[str] = dlt.sources.incremental(  # noqa: B008
                "updated_at", initial_value=options.start_iso,
                on_cursor_value_missing="include"),
    ) -> Iterator[list[Any]]:
        filters = {"start_time": unix_seconds(updated_at.start_value)}
        for page in cursor_list(session, url, key="satisfaction_ratings",
                                page_size=options.list_page_size, filters=filters):
            if page:
                yield page

    return apply_contract(satisfaction_ratings(), zd.SATISFACTION_RATINGS_CONTRACT)


def unix_seconds(value: Any) -> int:
    """Whole Unix seconds of a Zendesk time (`2024-03-01T10:00:00Z`, or a datetime)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(
        str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
