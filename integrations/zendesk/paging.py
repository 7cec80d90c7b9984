"""Zendesk's three ways of paging through changes, as generators of whole pages.

- `cursor_export`: the cursor-based incremental export (tickets, users). The first request
  carries `start_time`, every later one the `after_cursor` of the page before, until
  `end_of_stream`. The cursor encodes an exact (update time, id) position, so any number of
  records sharing one update time — more than a page of them — come out exactly once; the
  caller stores the last `after_cursor` and the next run resumes from it.
- `time_export`: the time-based incremental export (organizations): `start_time` then the
  page's `end_time`. The last page's `end_time` second is inclusive, so a later run sees that
  second's records again; the caller's incremental drops the ones it already has.
- `cursor_list`: cursor pagination of list endpoints (`page[size]`, `page[after]`,
  `meta.has_more`), with the endpoint's own filters (satisfaction ratings' `start_time`).

Every generator refuses to loop: a page that says "more" but does not move the position
raises instead of asking for the same page forever. A 422 for a too-recent `start_time`
(Zendesk refuses the last minute of its clock) ends the export quietly: nothing exists there
that a later run will not fetch, since the position is not moved past it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from integrations.http import VendorRequestError, VendorSession
from integrations.zendesk.settings import TOO_RECENT_MARKER, TOO_RECENT_STATUS, VENDOR

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportPage:
    """One page of a cursor-based export: its records, the whole body (for side-loads), and
    the position after it."""

    records: list[Any]
    body: dict[str, Any]
    after_cursor: str | None
    end_of_stream: bool


def cursor_export(session: VendorSession, url: str, *, key: str, start_time: int,
                  cursor: str | None, per_page: int,
                  extra: Mapping[str, str] | None = None) -> Iterator[ExportPage]:
    """Pages of a cursor-based export from `cursor` (or from `start_time` when there is none).

    Yields every page, the last (`end_of_stream`) included, so the caller can store its
    `after_cursor`; an empty first answer to a too-recent `start_time` yields nothing.
    """
    base = {"per_page": per_page, **(extra or {})}
    params: dict[str, Any] = {**base, "cursor": cursor} if cursor else {
        **base, "start_time": start_time}
    while True:
        response = session.get(url, params=params)
        if cursor is None and _too_recent(response):
            log.info("%s: %s has nothing before start_time %s yet (HTTP 422); next run "
                     "retries", VENDOR, _path(url), start_time)
            return
        body = _json(session, response)
        page = ExportPage(records=_records(body, key, url), body=body,
                          after_cursor=body.get("after_cursor"),
                          end_of_stream=bool(body.get("end_of_stream")))
        yield page
        if page.end_of_stream:
            return
        if not page.after_cursor or page.after_cursor == cursor:
            raise _stuck(url, "the export's after_cursor did not advance")
        cursor = page.after_cursor
        params = {**base, "cursor": cursor}


def time_export(session: VendorSession, url: str, *, key: str, start_time: int,
                per_page: int) -> Iterator[list[Any]]:
    """Pages of a time-based export from `start_time` (inclusive) to the end of the stream."""
    while True:
        response = session.get(url, params={"start_time": start_time, "per_page": per_page})
        if _too_recent(response):
            log.info("%s: %s start_time %s is within the vendor's last minute (HTTP 422); "
                     "the rest is fetched by the next run", VENDOR, _path(url), start_time)
            return
        body = _json(session, response)
        yield _records(body, key, url)
        if body.get("end_of_stream"):
            return
        end_time = body.get("end_time")
        if not isinstance(end_time, int) or end_time <= start_time:
            raise _stuck(url, "the export's end_time did not advance")
        start_time = end_time


def cursor_list(session: VendorSession, url: str, *, key: str, page_size: int,
                filters: Mapping[str, Any] | None = None) -> Iterator[list[Any]]:
    """Pages of a list endpoint under cursor pagination, with the endpoint's `filters`."""
    base = {**(filters or {}), "page[size]": page_size}
    after: str | None = None
    while True:
        params = {**base, "page[after]": after} if after else base
        body = _json(session, session.get(url, params=params))
        yield _records(body, key, url)
        meta = body.get("meta") or {}
        if not meta.get("has_more"):
            return
        following = meta.get("after_cursor")
        if not following or following == after:
            raise _stuck(url, "the list's after_cursor did not advance")
        after = following


def _too_recent(response: requests.Response) -> bool:
    return (response.status_code == TOO_RECENT_STATUS
            and TOO_RECENT_MARKER in response.text)


def _json(session: VendorSession, response: requests.Response) -> dict[str, Any]:
    body = session.ensure_ok(response).json()
    if not isinstance(body, dict):
        raise VendorRequestError(VENDOR, "GET", _path(response.url), attempts=1,
                                 status=response.status_code,
                                 failure="the body is not a JSON object")
    return body


def _records(body: dict[str, Any], key: str, url: str) -> list[Any]:
    records = body.get(key)
    if not isinstance(records, list):
        raise VendorRequestError(VENDOR, "GET", _path(url), attempts=1, status=200,
                                 failure=f"the body has no {key!r} list")
    return records


def _stuck(url: str, why: str) -> VendorRequestError:
    return VendorRequestError(VENDOR, "GET", _path(url), attempts=1, status=200, failure=why)


def _path(url: str) -> str:
    return urlsplit(url).path or "/"
