"""Incremental reads through HubSpot's CRM search, past its 10,000-result cap.

The search is filtered on the object's modification property (>= the cursor), sorted by it
ascending and paged with `after`. HubSpot serves at most `SEARCH_RESULT_CAP` results of one
search, however large `total` is; asking past it is a 400. So a *window* — one search — is
paged until the next page would cross the cap, and then a new window starts from the last
modification time seen:

- the records of the new window at exactly that time that the old window already returned
  are skipped (their ids are remembered), so nothing is yielded twice;
- if that last millisecond holds a whole window of records (more records stamped in one
  millisecond than the cap), restarting from that time would return the same window
  forever; the next window then continues by id inside that millisecond (`modified = T and
  hs_object_id > last id`, OR `modified > T`; ties come in id order), so the pull always
  moves forward.

Windows stay on offset paging as HubSpot prescribes. One hazard remains that no search
filter can close: a record returned earlier in a window and modified while the window is
still being paged moves to the end, shifting later results one place back, so one record at a
page boundary can be skipped. Runs are short next to how often one record changes; the next
change to the skipped record brings it back.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from integrations.hubspot import settings
from integrations.hubspot.client import HubSpotClient, next_after
from integrations.hubspot.settings import ObjectSpec

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Page = list[dict[str, Any]]


@dataclass(frozen=True)
class Window:
    """Where one search starts: modified at or after `start_ms`, or — in id mode — modified at
    exactly `start_ms` with an id above `after_id`, or later."""

    start_ms: int
    after_id: int | None = None
    seen: frozenset[str] = frozenset()     # ids at `start_ms` an earlier window yielded


@dataclass
class _LastSeen:
    """The latest modification time a window returned, and the ids returned at it."""

    millis: int | None = None
    ids: set[str] = field(default_factory=set)

    def add(self, records: Iterable[Mapping[str, Any]], spec: ObjectSpec) -> None:
        for record in records:
            millis = modified_millis(record, spec)
            if millis is None:
                continue            # quarantined by the contract; it cannot place a restart
            if self.millis is None or millis > self.millis:
                self.millis, self.ids = millis, set()
            if millis == self.millis:
                self.ids.add(str(record.get("id")))


def modified_since(client: HubSpotClient, spec: ObjectSpec, since: str, *,
                   page_size: int) -> Generator[Page, None, None]:
    """Every record of `spec` modified at or after `since` (ISO 8601), page by page."""
    window: Window | None = Window(iso_to_millis(since))
    while window is not None:
        window = yield from _search_window(client, spec, window, page_size)


def _search_window(client: HubSpotClient, spec: ObjectSpec, window: Window, page_size: int,
                   ) -> Generator[Page, None, Window | None]:
    """Page through one search; return the window to continue with if the cap cut it short."""
    cap = settings.SEARCH_RESULT_CAP
    after = 0
    last = _LastSeen()
    while True:
        body = client.search(spec.object_type, search_body(spec, window, page_size, after))
        results = [r for r in body.get("results") or [] if isinstance(r, dict)]
        page = [r for r in results if not _yielded_before(r, spec, window)]
        if page:
            yield page
        last.add(results, spec)
        following = next_after(body)
        if not results:
            return None
        if following is None:
            total = body.get("total")
            if not isinstance(total, int) or after + len(results) >= total:
                return None          # exhausted; otherwise the cap ended the paging early
        elif int(following) + page_size <= cap:
            after = int(following)
            continue
        return _next_window(window, last, spec, capacity=cap // page_size * page_size)


def _next_window(window: Window, last: _LastSeen, spec: ObjectSpec, *, capacity: int,
                 ) -> Window:
    """The window after a capped one: from the last time seen, or by id inside it.

    By id when restarting from the time alone cannot move forward: the last millisecond
    holds at least a whole window (`capacity` results) of records already returned.
    """
    if last.millis is None:
        raise RuntimeError(f"hubspot.{spec.object_type}: a capped search returned no record "
                           f"with a readable {spec.modified_property}; cannot restart it")
    if last.millis > window.start_ms and len(last.ids) < capacity:
        return Window(last.millis, seen=frozenset(last.ids))
    try:
        highest = max(int(object_id) for object_id in last.ids)
    except ValueError:
        raise RuntimeError(f"hubspot.{spec.object_type}: more than "
                           f"{settings.SEARCH_RESULT_CAP} records share one "
                           f"{spec.modified_property} and their ids are not numeric; cannot "
                           f"page past them") from None
    if window.after_id is not None and last.millis == window.start_ms:
        highest = max(highest, window.after_id)
    return Window(last.millis, after_id=highest)


def search_body(spec: ObjectSpec, window: Window, page_size: int, after: int,
                ) -> dict[str, Any]:
    """The JSON body of one search request for `window`, at offset `after`."""
    modified = spec.modified_property
    start = str(window.start_ms)
    if window.after_id is None:
        groups = [{"filters": [{"propertyName": modified, "operator": "GTE", "value": start}]}]
    else:
        groups = [
            {"filters": [{"propertyName": modified, "operator": "EQ", "value": start},
                         {"propertyName": settings.ID_PROPERTY, "operator": "GT",
                          "value": str(window.after_id)}]},
            {"filters": [{"propertyName": modified, "operator": "GT", "value": start}]},
        ]
    body: dict[str, Any] = {
        "filterGroups": groups,
        "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
        "properties": list(spec.properties),
        "limit": page_size,
    }
    if after:
        body["after"] = str(after)
    return body


def _yielded_before(record: Mapping[str, Any], spec: ObjectSpec, window: Window) -> bool:
    return (str(record.get("id")) in window.seen
            and modified_millis(record, spec) == window.start_ms)


def modified_millis(record: Mapping[str, Any], spec: ObjectSpec) -> int | None:
    """The record's modification time in epoch milliseconds, or None if it has none."""
    properties = record.get("properties")
    value = properties.get(spec.modified_property) if isinstance(properties, Mapping) else None
    if not isinstance(value, str):
        return None
    try:
        return iso_to_millis(value)
    except ValueError:
        return None


def iso_to_millis(text: str) -> int:
    """Epoch milliseconds of an ISO 8601 time with a zone (HubSpot's `...T10:00:00.000Z`)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no zone")
    return (moment - _EPOCH) // timedelta(milliseconds=1)
