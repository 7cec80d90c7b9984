"""The search windows past HubSpot's result cap, against canned search semantics.

`CannedSearch` answers search bodies the way HubSpot does — filter groups OR-ed, filters
AND-ed, sorted by modification time (ties by id), offset paging that refuses to go past the
cap — over a list of records a test lays out, so the awkward shapes (a cluster of records
sharing one millisecond larger than the cap, at the start, in the middle, at the end) are
pinned exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from integrations.hubspot import settings
from integrations.hubspot.search import iso_to_millis, modified_since, search_body
from integrations.hubspot.settings import COMPANIES
from integrations.sandbox.vendors.hubspot_objects import iso

BASE_MS = 1_767_225_600_000      # 2026-01-01T00:00:00Z


class CapExceeded(AssertionError):
    """The connector asked for a result past the cap (HubSpot answers 400)."""


class CannedSearch:
    """A stand-in for `HubSpotClient.search` over fixed company records."""

    def __init__(self, modified_ms: list[int], cap: int) -> None:
        self.records: list[dict[str, Any]] = [
            {"id": str(10_000_000_000 + n), "properties": {
                "hs_lastmodifieddate": iso(ms), "hs_object_id": str(10_000_000_000 + n)}}
            for n, ms in enumerate(modified_ms)]
        self.cap = cap
        self.bodies: list[dict[str, Any]] = []

    def search(self, object_type: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self.bodies.append(dict(body))
        after, limit = int(body.get("after", 0)), int(body["limit"])
        if after >= self.cap:
            raise CapExceeded(f"after={after} is past the cap {self.cap}")
        matching = sorted((r for r in self.records if self._matches(r, body["filterGroups"])),
                          key=lambda r: (_ms(r), int(r["id"])))
        page = matching[after:min(after + limit, self.cap)]
        answer: dict[str, Any] = {"total": len(matching), "results": page}
        if after + len(page) < min(len(matching), self.cap):
            answer["paging"] = {"next": {"after": str(after + len(page))}}
        return answer

    @staticmethod
    def _matches(record: dict[str, Any], groups: list[dict[str, Any]]) -> bool:
        def value(name: str) -> int:
            return _ms(record) if name == "hs_lastmodifieddate" else int(record["id"])

        checks = {"GTE": lambda a, b: a >= b, "GT": lambda a, b: a > b,
                  "EQ": lambda a, b: a == b}
        return any(all(checks[f["operator"]](value(f["propertyName"]), int(f["value"]))
                       for f in group["filters"]) for group in groups)


def _ms(record: dict[str, Any]) -> int:
    return iso_to_millis(record["properties"]["hs_lastmodifieddate"])


def pull(canned: CannedSearch, *, since_ms: int = 0, page_size: int) -> list[str]:
    pages = modified_since(canned, COMPANIES, iso(since_ms) or "", page_size=page_size)  # type: ignore[arg-type]
    return [record["id"] for page in pages for record in page]


@pytest.fixture(autouse=True)
def small_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "SEARCH_RESULT_CAP", 10)


@pytest.mark.parametrize("layout", [
    pytest.param([BASE_MS + n for n in range(57)], id="distinct-times"),
    pytest.param([BASE_MS] * 35 + [BASE_MS + 1 + n for n in range(12)], id="cluster-first"),
    pytest.param([BASE_MS + n for n in range(8)] + [BASE_MS + 100] * 27
                 + [BASE_MS + 200 + n for n in range(9)], id="cluster-middle"),
    pytest.param([BASE_MS + n for n in range(13)] + [BASE_MS + 500] * 31, id="cluster-last"),
    pytest.param([BASE_MS] * 10, id="exactly-the-cap"),
    pytest.param([BASE_MS + n // 4 for n in range(40)], id="many-small-ties"),
])
def test_every_record_exactly_once_and_never_past_the_cap(layout: list[int]) -> None:
    canned = CannedSearch(layout, cap=10)

    ids = pull(canned, page_size=4)

    assert Counter(ids) == Counter(r["id"] for r in canned.records)
    # Each window reads at most the cap, and a window never repeats the one before it.
    assert all(int(body.get("after", 0)) + body["limit"] <= 10 for body in canned.bodies)
    filters = [repr(body["filterGroups"]) for body in canned.bodies if not body.get("after")]
    assert len(filters) == len(set(filters))


def test_pull_starts_at_the_cursor_inclusive() -> None:
    canned = CannedSearch([BASE_MS + n for n in range(6)], cap=10)

    ids = pull(canned, since_ms=BASE_MS + 3, page_size=4)

    assert ids == [r["id"] for r in canned.records[3:]]
    assert canned.bodies[0]["filterGroups"] == [{"filters": [{
        "propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(BASE_MS + 3)}]}]


def test_a_window_of_one_millisecond_continues_by_id() -> None:
    canned = CannedSearch([BASE_MS] * 25, cap=10)

    pull(canned, page_size=5)

    windows = [body for body in canned.bodies if not body.get("after")]
    assert windows[1]["filterGroups"] == [
        {"filters": [
            {"propertyName": "hs_lastmodifieddate", "operator": "EQ", "value": str(BASE_MS)},
            {"propertyName": "hs_object_id", "operator": "GT",
             "value": canned.records[9]["id"]}]},
        {"filters": [
            {"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": str(BASE_MS)}]},
    ]


def test_search_body_asks_for_the_properties_sorted_ascending() -> None:
    from integrations.hubspot.search import Window

    body = search_body(COMPANIES, Window(5), page_size=200, after=400)

    assert body["sorts"] == [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
    assert body["limit"] == 200 and body["after"] == "400"
    assert {"csp_stripe_customer_id", "csp_workspace_id", "domain"} <= set(body["properties"])
