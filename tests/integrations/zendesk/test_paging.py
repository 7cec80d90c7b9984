"""Zendesk paging on canned pages: what the sandbox never serves (a vendor that stops moving).

The pages go through a real `VendorSession` (a transport adapter answers instead of the
network), so errors are exactly the ones a run would raise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from integrations.http import VendorRequestError, VendorSession, create_session
from integrations.zendesk.paging import cursor_export, cursor_list, time_export

URL = "https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json"


class CannedPages(BaseAdapter):
    """Answers each request with the next canned (status, body), recording its query."""

    def __init__(self, *answers: tuple[int, Any]) -> None:
        super().__init__()
        self.answers = list(answers)
        self.queries: list[dict[str, str]] = []

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: float | tuple[float | None, float | None] | None = None,
             verify: bool | str = True, cert: str | tuple[str, str] | None = None,
             proxies: dict[str, str] | None = None) -> requests.Response:
        query = parse_qs(urlsplit(request.url or "").query)
        self.queries.append({name: values[0] for name, values in query.items()})
        status, body = self.answers.pop(0)
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release."""


def session_with(adapter: CannedPages) -> VendorSession:
    session = create_session("zendesk")
    session.mount("https://", adapter)
    return session


def export_page(ids: list[int], after: str | None, end: bool) -> dict[str, Any]:
    return {"tickets": [{"id": i} for i in ids], "after_cursor": after, "end_of_stream": end}


def test_cursor_export_follows_the_cursor_to_the_end_of_the_stream() -> None:
    adapter = CannedPages((200, export_page([1, 2], "c1", False)),
                          (200, export_page([3], "c2", True)))
    pages = list(cursor_export(session_with(adapter), URL, key="tickets", start_time=5,
                               cursor=None, per_page=2))
    assert [[t["id"] for t in page.records] for page in pages] == [[1, 2], [3]]
    assert [page.after_cursor for page in pages] == ["c1", "c2"]
    assert adapter.queries == [{"per_page": "2", "start_time": "5"},
                               {"per_page": "2", "cursor": "c1"}]


def test_a_cursor_that_does_not_move_stops_the_export() -> None:
    adapter = CannedPages((200, export_page([1], "c1", False)),
                          (200, export_page([1], "c1", False)))
    with pytest.raises(VendorRequestError) as caught:
        list(cursor_export(session_with(adapter), URL, key="tickets", start_time=0,
                           cursor=None, per_page=1))
    assert str(caught.value) == ("zendesk: GET /api/v2/incremental/tickets/cursor.json failed "
                                 "(last: HTTP 200, the export's after_cursor did not advance)")
    assert len(adapter.queries) == 2


def test_a_too_recent_start_time_ends_the_export_without_records() -> None:
    refusal = {"error": "InvalidValue",
               "description": "Too recent start_time. Use a start_time older than 1 minute"}
    adapter = CannedPages((422, refusal), (422, refusal))
    session = session_with(adapter)
    assert list(cursor_export(session, URL, key="tickets", start_time=9, cursor=None,
                              per_page=1)) == []
    assert list(time_export(session, URL, key="organizations", start_time=9,
                            per_page=1)) == []


def test_another_422_is_an_error() -> None:
    adapter = CannedPages((422, {"error": "InvalidValue", "description": "per_page is bad"}))
    with pytest.raises(VendorRequestError) as caught:
        list(time_export(session_with(adapter), URL, key="organizations", start_time=9,
                         per_page=1))
    assert "answered HTTP 422" in str(caught.value)


def test_time_export_moves_by_end_time_and_refuses_to_stand_still() -> None:
    def page(ids: list[int], end_time: int, end: bool) -> Mapping[str, Any]:
        return {"organizations": [{"id": i} for i in ids], "end_time": end_time,
                "end_of_stream": end}

    adapter = CannedPages((200, page([1], 100, False)), (200, page([2], 100, False)))
    exported = time_export(session_with(adapter), URL, key="organizations", start_time=50,
                           per_page=1)
    assert next(exported) == [{"id": 1}]
    assert next(exported) == [{"id": 2}]
    with pytest.raises(VendorRequestError, match="end_time did not advance"):
        next(exported)
    assert [q["start_time"] for q in adapter.queries] == ["50", "100"]


def test_cursor_list_pages_with_page_after_and_keeps_its_filters() -> None:
    def page(ids: list[int], more: bool, after: str) -> Mapping[str, Any]:
        return {"satisfaction_ratings": [{"id": i} for i in ids],
                "meta": {"has_more": more, "after_cursor": after}}

    adapter = CannedPages((200, page([1], True, "a1")), (200, page([2], False, "a2")))
    pages = list(cursor_list(session_with(adapter), URL, key="satisfaction_ratings",
                             page_size=1, filters={"start_time": 7}))
    assert pages == [[{"id": 1}], [{"id": 2}]]
    assert adapter.queries == [{"start_time": "7", "page[size]": "1"},
                               {"start_time": "7", "page[size]": "1", "page[after]": "a1"}]
