"""The sandbox's Zendesk: rendered shapes, incremental exports, pagination, auth and limits.

Worlds are built by hand in a temp dir (WorldWriter + canonical records) so each test pins
its case exactly; routes are exercised over real HTTP against a SandboxServer on port 0.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import requests

from integrations.sandbox import domain
from integrations.sandbox.credentials import DEFAULT_SECRETS
from integrations.sandbox.faults import Fault
from integrations.sandbox.fixtures import export_world, load_fixture_dir
from integrations.sandbox.routing import RateLimit, Request
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.store import Sink, WorldReader, WorldWriter, connect
from integrations.sandbox.vendors.zendesk import Zendesk
from integrations.sandbox.vendors.zendesk_render import business_minutes, render_contact
from tests.vendor_specs import VENDOR_SPECS

SPECS = VENDOR_SPECS / "zendesk"
T0 = 1_709_251_200.0               # 2024-03-01T00:00:00Z
CLOCK = "2024-06-30"               # world clock: "now" is 2024-07-01T00:00:00Z
EMAIL, TOKEN = DEFAULT_SECRETS["zendesk_email"], DEFAULT_SECRETS["zendesk_api_token"]


def make_account(key: int, **changes: Any) -> domain.Account:
    record: domain.Account = {
        "key": key, "name": f"Acme {key}", "domain": f"acme{key}.example",
        "billing_domain": f"acme{key}.example", "industry": "Software", "employees": 120,
        "country": "US", "segment": "mid_market", "owner_key": 1, "onboarding_owner_key": 1,
        "lifecycle_stage": "customer", "customer_since": "2023-01-01", "created_at": T0,
        "updated_at": T0, "workspace_id": f"ws_{key:06d}", "hubspot_company_id": str(9000 + key),
        "salesforce_account_id": f"001{key:015d}", "stripe_customer_id": f"cus_{key:014d}",
        "zendesk_organization_id": 360_000 + key, "stripe_id_in_crm": True,
        "zendesk_external_id": f"ext-{key}", "currency": "usd",
        "billing_email": f"billing@acme{key}.example", "plan": "growth", "seats": 25,
        "renewal_date": "2025-01-01",
    }
    record.update(changes)  # type: ignore[typeddict-item]
    return record


def make_contact(key: int, account_key: int, **changes: Any) -> domain.Contact:
    record: domain.Contact = {
        "key": key, "account_key": account_key, "first_name": "Ada", "last_name": f"L{key}",
        "email": f"ada{key}@acme{account_key}.example", "title": "Ops lead", "role": "champion",
        "created_at": T0, "updated_at": T0, "last_engaged_at": None, "left_at": None,
        "hubspot_contact_id": str(7000 + key), "salesforce_contact_id": f"003{key:015d}",
        "zendesk_user_id": 500_000 + key,
    }
    record.update(changes)  # type: ignore[typeddict-item]
    return record


def make_csm(key: int) -> domain.Csm:
    return {"key": key, "first_name": "Grace", "last_name": f"H{key}",
            "email": f"grace{key}@vendor.example", "team": "smb", "created_at": T0,
            "hubspot_owner_id": str(52_550_000 + key), "salesforce_user_id": f"005{key:015d}",
            "slack_user_id": f"U0CSM{key:05d}", "zendesk_agent_id": 800_000 + key}


def make_ticket(ticket_id: int, updated: float, **changes: Any) -> domain.Ticket:
    record: domain.Ticket = {
        "key": ticket_id, "id": ticket_id, "account_key": 1, "organization_id": 360_001,
        "requester_id": 500_001, "assignee_id": 800_001, "subject": f"Help {ticket_id}",
        "description": "Export fails", "category": "bug", "ticket_type": "incident",
        "priority": "normal", "status": "open", "escalated": False, "tags": ["sandbox"],
        "created_at": updated - 3600, "updated_at": updated, "first_reply_at": updated - 1800,
        "solved_at": None, "reopens": 0, "replies": 1, "satisfaction": None,
    }
    record.update(changes)  # type: ignore[typeddict-item]
    return record


def open_world(path: Path) -> WorldWriter:
    """A writer on the world whose CSM (every account's owner) is already put, as the CRM
    renderers require owners before accounts."""
    writer = WorldWriter(path)
    writer.put(domain.CSM, dict(make_csm(1)))
    return writer


def write_world(path: Path, tickets: list[domain.Ticket], *, accounts: int = 1) -> None:
    writer = open_world(path)
    writer.set_meta("clock", CLOCK)
    for key in range(1, accounts + 1):
        writer.put(domain.ACCOUNT, dict(make_account(key, updated_at=T0 + key)))
        writer.put(domain.CONTACT, dict(make_contact(key, key)))
    for ticket in tickets:
        writer.put(domain.TICKET, dict(ticket))
    writer.close()


def put_tickets(path: Path, tickets: list[domain.Ticket]) -> None:
    """Later updates written while a server reads the same world (the simulation stepping)."""
    writer = WorldWriter(path)
    for ticket in tickets:
        writer.put(domain.TICKET, dict(ticket))
    writer.close()


@pytest.fixture()
def world_path(tmp_path: Path) -> Path:
    return tmp_path / "world.sqlite"


@pytest.fixture()
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.auth = (f"{EMAIL}/token", TOKEN)
        yield http


def serve(world_path: Path, **kwargs: Any) -> SandboxServer:
    return SandboxServer(world_path, **kwargs)


def export_all(http: requests.Session, url: str, params: dict[str, Any],
               ) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    """Walk a cursor export to end_of_stream: (records, last page, pages fetched)."""
    records: list[dict[str, Any]] = []
    pages = 0
    while True:
        page = http.get(url, params=params, timeout=10)
        assert page.status_code == 200, page.text
        body = page.json()
        pages += 1
        records += body["tickets"]
        if body["end_of_stream"]:
            return records, body, pages
        assert pages < 50, "export does not terminate"
        params = {"cursor": body["after_cursor"], "per_page": params.get("per_page", 1000)}


# -- rendering ------------------------------------------------------------------------------

def test_renderers_produce_zendesk_shapes(world_path: Path) -> None:
    rating: domain.SatisfactionRating = {"id": 77, "score": "bad", "comment": "slow",
                                         "created_at": T0 + 90_000, "updated_at": T0 + 90_000}
    write_world(world_path, [make_ticket(10, T0 + 86_400, escalated=True, satisfaction=rating,
                                         category="how_to", status="solved",
                                         solved_at=T0 + 86_400)])
    world = WorldReader(world_path)
    sample_ticket = json.loads((SPECS / "zendesk_tickets.json").read_text())["tickets"][0]
    sample_org = json.loads((SPECS / "zendesk_organizations.json").read_text())[
        "organizations"][0]

    ticket = world.get("zendesk", "tickets", "10")
    assert ticket is not None
    missing = set(sample_ticket) - set(ticket)
    assert missing == set(), f"ticket lacks documented fields {missing}"
    assert ticket["tags"] == ["sandbox", "how_to", "escalated"]
    assert ticket["custom_fields"] == [{"id": 360_000_000_201, "value": "how_to"}]
    assert ticket["satisfaction_rating"] == {"score": "bad", "id": 77, "comment": "slow"}
    assert ticket["updated_at"] == "2024-03-02T00:00:00Z"
    assert ticket["generated_timestamp"] == int(T0 + 86_400)
    assert ticket["external_id"] is None and ticket["type"] == "incident"

    org = world.get("zendesk", "organizations", "360001")
    assert org is not None
    assert set(sample_org) - set(org) == set()
    assert org["external_id"] == "ext-1"
    assert org["organization_fields"] == {"segment": "mid_market", "workspace_id": "ws_000001"}

    user = world.get("zendesk", "users", "500001")
    agent = world.get("zendesk", "users", "800001")
    assert user is not None and agent is not None
    assert (user["role"], user["organization_id"], user["active"]) == ("end-user", 360_001, True)
    assert (agent["role"], agent["organization_id"]) == ("agent", None)

    metric = world.get("zendesk", "ticket_metrics", str(900_000_000_010))
    assert metric is not None
    assert metric["ticket_id"] == 10
    assert metric["reply_time_in_minutes"]["calendar"] == 30
    assert metric["full_resolution_time_in_minutes"]["calendar"] == 60
    assert metric["solved_at"] == "2024-03-02T00:00:00Z"
    stored_rating = world.get("zendesk", "satisfaction_ratings", "77")
    assert stored_rating is not None
    assert {k: stored_rating[k] for k in ("ticket_id", "score", "comment", "requester_id",
                                          "assignee_id", "organization_id")} == {
        "ticket_id": 10, "score": "bad", "comment": "slow", "requester_id": 500_001,
        "assignee_id": 800_001, "organization_id": 360_001}


def test_unoffered_rating_null_external_id_and_departed_user(world_path: Path) -> None:
    writer = open_world(world_path)
    writer.put(domain.ACCOUNT, dict(make_account(2, zendesk_external_id=None)))
    writer.put(domain.CONTACT, dict(make_contact(2, 2, left_at=T0 + 500)))
    writer.put(domain.TICKET, dict(make_ticket(11, T0 + 100)))
    writer.close()
    world = WorldReader(world_path)
    assert world.get("zendesk", "organizations", "360002")["external_id"] is None  # type: ignore[index]
    user = world.get("zendesk", "users", "500002")
    assert user is not None and user["active"] is False
    assert user["updated_at"] == "2024-03-01T00:08:20Z"
    ticket = world.get("zendesk", "tickets", "11")
    assert ticket is not None and ticket["satisfaction_rating"] == {"score": "unoffered"}
    assert world.get("zendesk", "satisfaction_ratings", "77") is None


def test_contact_before_its_account_is_refused_not_left_without_organization(
        tmp_path: Path) -> None:
    conn = connect(tmp_path / "bare.sqlite")
    with pytest.raises(ValueError, match="contact 4 refers to account 9"):
        render_contact(make_contact(4, 9), Sink(conn))
    conn.close()


def test_reopened_ticket_keeps_first_resolution_time(world_path: Path) -> None:
    solved = make_ticket(12, T0 + 7200, status="solved", solved_at=T0 + 7200)
    reopened = make_ticket(12, T0 + 90_000, status="open", solved_at=None, reopens=1,
                           created_at=T0 + 3600)
    write_world(world_path, [solved])
    put_tickets(world_path, [reopened])
    metric = WorldReader(world_path).get("zendesk", "ticket_metrics", str(900_000_000_012))
    assert metric is not None
    assert metric["first_resolution_time_in_minutes"]["calendar"] == 60
    assert metric["full_resolution_time_in_minutes"] == {"calendar": None, "business": None}
    assert metric["reopens"] == 1 and metric["solved_at"] is None


def test_business_minutes_count_weekday_office_hours_only() -> None:
    friday_4pm = T0 + 16 * 3600          # 2024-03-01 was a Friday
    monday_10am = T0 + 3 * 86_400 + 10 * 3600
    assert business_minutes(friday_4pm, monday_10am) == 120
    assert business_minutes(monday_10am, friday_4pm) == 0


# -- cursor-based incremental export --------------------------------------------------------

def test_full_export_walks_every_ticket_once(world_path: Path,
                                             session: requests.Session) -> None:
    write_world(world_path, [make_ticket(i, T0 + i * 37) for i in range(1, 2501)])
    with serve(world_path) as server:
        url = server.url("zendesk") + "/api/v2/incremental/tickets/cursor.json"
        records, last, pages = export_all(session, url, {"start_time": int(T0)})
    ids = [r["id"] for r in records]
    assert sorted(ids) == list(range(1, 2501)) and len(ids) == len(set(ids))
    assert pages == 3
    assert last["after_cursor"] and last["after_url"].startswith(server.url("zendesk"))
    stamps = [(r["generated_timestamp"], r["id"]) for r in records]
    assert stamps == sorted(stamps)
    assert records[0]["url"] == server.url("zendesk") + "/api/v2/tickets/1.json"


def test_tickets_sharing_one_timestamp_are_exported_exactly_once(
        world_path: Path, session: requests.Session) -> None:
    write_world(world_path, [make_ticket(i, T0 + i * 60) for i in range(1, 2001)])
    with serve(world_path) as server:
        shared = requests.post(server.base_url + "/_sandbox/same-timestamp",
                               json={"vendor": "zendesk", "kind": "tickets", "count": 1500},
                               timeout=10)
        assert shared.json() == {"changed": 1500}
        url = server.url("zendesk") + "/api/v2/incremental/tickets/cursor.json"
        records, _, pages = export_all(session, url,
                                       {"start_time": int(T0), "per_page": 1000})
    stamps = [r["updated_at"] for r in records]
    assert max(stamps.count(s) for s in stamps) == 1500
    assert sorted(r["id"] for r in records) == list(range(1, 2001))
    assert pages == 2


def test_resume_from_after_cursor_returns_only_later_updates(
        world_path: Path, session: requests.Session) -> None:
    write_world(world_path, [make_ticket(i, T0 + i) for i in range(1, 301)])
    with serve(world_path) as server:
        url = server.url("zendesk") + "/api/v2/incremental/tickets/cursor.json"
        _, last, _ = export_all(session, url, {"start_time": int(T0)})
        idle = session.get(url, params={"cursor": last["after_cursor"]}, timeout=10).json()
        assert idle["tickets"] == [] and idle["end_of_stream"] is True
        assert idle["after_cursor"] == last["after_cursor"]
        put_tickets(world_path, [make_ticket(7, T0 + 5000, status="pending"),
                                 make_ticket(301, T0 + 6000)])
        later, final, _ = export_all(session, url, {"cursor": last["after_cursor"]})
    assert [(r["id"], r["status"]) for r in later] == [(7, "pending"), (301, "open")]
    assert final["end_of_stream"] is True


def test_too_recent_or_future_start_time_is_refused_like_zendesk(
        world_path: Path, session: requests.Session) -> None:
    write_world(world_path, [make_ticket(1, T0)])
    now = 1_719_792_000                  # the world clock's end: 2024-07-01T00:00:00Z
    with serve(world_path) as server:
        url = server.url("zendesk") + "/api/v2/incremental/tickets/cursor.json"
        for start in (now - 30, now + 86_400):
            refused = session.get(url, params={"start_time": start}, timeout=10)
            assert refused.status_code == 422
            assert refused.json()["description"].startswith("Too recent start_time")
        empty = session.get(url, params={"start_time": now - 120}, timeout=10)
        assert empty.status_code == 200
        assert empty.json()["tickets"] == [] and empty.json()["after_cursor"] is None
        missing = session.get(url, timeout=10)
        assert missing.status_code == 400 and missing.json()["error"] == "InvalidValue"
        garbage = session.get(url, params={"cursor": "not-a-cursor"}, timeout=10)
        assert garbage.status_code == 400
        assert garbage.json()["error"] == "InvalidPaginationParameter"


def test_metric_sets_side_load_and_users_export(world_path: Path,
                                                session: requests.Session) -> None:
    write_world(world_path, [make_ticket(i, T0 + i) for i in range(1, 4)], accounts=3)
    with serve(world_path) as server:
        base = server.url("zendesk") + "/api/v2/incremental"
        body = session.get(base + "/tickets/cursor.json",
                           params={"start_time": str(int(T0)), "include": "metric_sets"},
                           timeout=10).json()
        assert [m["ticket_id"] for m in body["metric_sets"]] == [1, 2, 3]
        assert "include=metric_sets" in body["after_url"]
        users = session.get(base + "/users/cursor.json", params={"start_time": int(T0)},
                            timeout=10).json()
    assert {u["role"] for u in users["users"]} == {"agent", "end-user"}
    assert len(users["users"]) == 4 and users["end_of_stream"] is True


# -- time-based export, listings ------------------------------------------------------------

def test_time_based_organization_export_cannot_loop_on_one_second(world_path: Path,
                                                                  session: requests.Session,
                                                                  ) -> None:
    writer = open_world(world_path)
    for key in range(1, 1201):
        writer.put(domain.ACCOUNT, dict(make_account(key, updated_at=T0 + 0.25)))
    writer.close()
    writer = open_world(world_path)
    writer.put(domain.ACCOUNT, dict(make_account(1201, updated_at=T0 + 7.5)))
    writer.close()
    with serve(world_path) as server:
        url = server.url("zendesk") + "/api/v2/incremental/organizations.json"
        first = session.get(url, params={"start_time": int(T0), "per_page": 500},
                            timeout=10).json()
        assert first["count"] == 1200 and first["end_of_stream"] is False
        assert len({o["id"] for o in first["organizations"]}) == 1200
        assert first["end_time"] == int(T0) + 1
        assert first["next_page"].endswith(f"start_time={int(T0) + 1}")
        second = session.get(first["next_page"], timeout=10).json()
        assert [o["id"] for o in second["organizations"]] == [361_201]
        assert second["end_of_stream"] is True and second["end_time"] == int(T0) + 7
        rerun = session.get(second["next_page"], timeout=10).json()
    assert rerun["count"] == 1 and rerun["end_time"] == int(T0) + 7


def test_cursor_pagination_walks_organizations(world_path: Path,
                                               session: requests.Session) -> None:
    writer = open_world(world_path)
    for key in range(1, 251):
        writer.put(domain.ACCOUNT, dict(make_account(key, created_at=T0 + key)))
    writer.close()
    with serve(world_path) as server:
        url: str | None = server.url("zendesk") + "/api/v2/organizations.json?page[size]=100"
        seen: list[int] = []
        while url:
            body = session.get(url, timeout=10).json()
            seen += [o["id"] for o in body["organizations"]]
            url = body["links"]["next"]
            assert body["meta"]["has_more"] is (url is not None)
        assert seen == [360_000 + key for key in range(1, 251)]
        back = session.get(server.url("zendesk") + "/api/v2/organizations.json",
                           params={"page[size]": 2, "page[before]": body["meta"]["before_cursor"]},
                           timeout=10).json()
        assert [o["id"] for o in back["organizations"]] == [360_199, 360_200]
        offset = session.get(server.url("zendesk") + "/api/v2/organizations.json",
                             params={"page": 3, "per_page": 100}, timeout=10).json()
        assert len(offset["organizations"]) == 50 and offset["count"] == 250
        assert offset["next_page"] is None and "page=2" in offset["previous_page"]
        too_big = session.get(server.url("zendesk") + "/api/v2/organizations.json",
                              params={"page[size]": 101}, timeout=10)
        assert too_big.status_code == 400
        too_deep = session.get(server.url("zendesk") + "/api/v2/organizations.json",
                               params={"page": 101}, timeout=10)
        assert too_deep.status_code == 400


def test_satisfaction_ratings_filter_by_time_and_score(world_path: Path,
                                                       session: requests.Session) -> None:
    def rated(ticket_id: int, score: str, comment: str, at: float) -> domain.Ticket:
        rating: domain.SatisfactionRating = {"id": 1000 + ticket_id, "score": score,  # type: ignore[typeddict-item]
                                             "comment": comment, "created_at": at,
                                             "updated_at": at}
        return make_ticket(ticket_id, at, status="solved", solved_at=at, satisfaction=rating)

    write_world(world_path, [rated(1, "good", "", T0 + 100), rated(2, "bad", "meh", T0 + 200),
                             rated(3, "good", "great", T0 + 300),
                             rated(4, "offered", "", T0 + 400)])
    with serve(world_path) as server:
        url = server.url("zendesk") + "/api/v2/satisfaction_ratings.json"

        def ids(**params: Any) -> list[int]:
            body = session.get(url, params={"page[size]": 100, **params}, timeout=10).json()
            return [r["ticket_id"] for r in body["satisfaction_ratings"]]

        assert ids() == [1, 2, 3, 4]
        assert ids(start_time=int(T0 + 200), end_time=int(T0 + 400)) == [2, 3]
        assert ids(score="received") == [1, 2, 3]
        assert ids(score="good_with_comment") == [3]
        assert ids(score="received_without_comment") == [1]
        first = session.get(url, params={"page[size]": "1", "score": "good"}, timeout=10).json()
        second = session.get(first["links"]["next"], timeout=10).json()
        assert [r["ticket_id"] for r in first["satisfaction_ratings"] +
                second["satisfaction_ratings"]] == [1, 3]
        assert second["meta"]["has_more"] is False
        metrics = session.get(server.url("zendesk") + "/api/v2/ticket_metrics.json",
                              timeout=10).json()
        assert [m["ticket_id"] for m in metrics["ticket_metrics"]] == [1, 2, 3, 4]
        assert session.get(url, params={"score": "great"}, timeout=10).status_code == 400


def test_show_ticket_and_not_found(world_path: Path, session: requests.Session) -> None:
    write_world(world_path, [make_ticket(5, T0)])
    with serve(world_path) as server:
        base = server.url("zendesk") + "/api/v2/tickets"
        assert session.get(base + "/5.json", timeout=10).json()["ticket"]["id"] == 5
        missing = session.get(base + "/6.json", timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {"error": "RecordNotFound", "description": "Not found"}


# -- auth, limits, faults, fixtures ---------------------------------------------------------

def test_auth_accepts_api_token_basic_and_bearer_only(world_path: Path) -> None:
    write_world(world_path, [make_ticket(1, T0)])
    with serve(world_path) as server:
        url = server.url("zendesk") + "/api/v2/tickets/1.json"
        ok_basic = requests.get(url, auth=(f"{EMAIL}/token", TOKEN), timeout=10)
        ok_bearer = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert (ok_basic.status_code, ok_bearer.status_code) == (200, 200)
        for auth in ((f"{EMAIL}/token", "wrong"), (EMAIL, TOKEN), None):
            denied = requests.get(url, auth=auth, timeout=10)
            assert denied.status_code == 401
            assert denied.json() == {"error": "Couldn't authenticate you"}
            assert TOKEN not in denied.text


def test_rate_limit_answers_429_with_retry_after(world_path: Path,
                                                 session: requests.Session) -> None:
    write_world(world_path, [make_ticket(1, T0)])
    with serve(world_path, rate_limits={"zendesk": RateLimit(2, 60.0)}) as server:
        url = server.url("zendesk") + "/api/v2/tickets/1.json"
        first = session.get(url, timeout=10)
        assert first.headers["X-Rate-Limit"] == "2"
        assert first.headers["X-Rate-Limit-Remaining"] == "1"
        session.get(url, timeout=10)
        limited = session.get(url, timeout=10)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json() == {"error": "APIRateLimitExceeded",
                              "description": "Number of allowed API requests per minute exceeded"}


def test_drift_fault_reaches_exported_tickets(world_path: Path,
                                              session: requests.Session) -> None:
    write_world(world_path, [make_ticket(1, T0), make_ticket(2, T0 + 1)])
    with serve(world_path) as server:
        server.faults.add(Fault(vendor="zendesk", kind="drift_rename",
                                route="incremental.tickets", field="subject", to="title",
                                count=1))
        url = server.url("zendesk") + "/api/v2/incremental/tickets/cursor.json"
        body = session.get(url, params={"start_time": int(T0)}, timeout=10).json()
    assert [("title" in t, "subject" in t) for t in body["tickets"]] == [(True, False)] * 2


def test_load_fixture_indexes_documented_examples(tmp_path: Path) -> None:
    conn = connect(tmp_path / "fixture.sqlite")
    vendor = Zendesk(DEFAULT_SECRETS)
    sink = Sink(conn)
    for kind, name in (("tickets", "zendesk_tickets.json"),
                       ("organizations", "zendesk_organizations.json")):
        for obj in json.loads((SPECS / name).read_text())[kind]:
            vendor.load_fixture(kind, obj, sink)
    conn.close()
    world = WorldReader(tmp_path / "fixture.sqlite")
    assert world.get("zendesk", "tickets", "35436")["subject"].startswith("Help")  # type: ignore[index]
    (updated, object_id, _), = world.scan("zendesk", "organizations")
    assert (object_id, updated) == ("4112492", 1_542_156_862.0)
    with pytest.raises(ValueError, match="created_at"):
        vendor.load_fixture("tickets", {"id": 1}, sink)
    with pytest.raises(ValueError, match="groups"):
        vendor.load_fixture("groups", {"id": 1}, sink)


def test_records_and_errors_use_zendesk_shapes(world_path: Path) -> None:
    write_world(world_path, [])
    vendor = Zendesk(DEFAULT_SECRETS)
    assert vendor.records({"tickets": [{"id": 1}], "metric_sets": [{"id": 2}]}) == [{"id": 1}]
    assert vendor.records({"ticket": {"id": 3}}) == [{"id": 3}]
    assert vendor.error(503, "down").body == {"error": "ServiceUnavailable",
                                             "description": "down"}
    assert vendor.error(400, "bad", "parameter_invalid_integer").body["error"] == "InvalidValue"
    headers = Message()
    headers["Authorization"] = "Basic " + base64.b64encode(
        f"{EMAIL}/token:{TOKEN}".encode()).decode()
    request = Request("GET", "/", {}, headers, b"", WorldReader(world_path), "http://x/zendesk")
    assert vendor.authenticate(request) is None


def test_exported_world_reloads_identically_for_support_vendors(world_path: Path,
                                                                tmp_path: Path) -> None:
    """Every object the Zendesk, Slack and product renderers store (internal indexes too)
    survives `export_world` -> `load_fixture_dir` with the same index columns, so pages
    and cursors served from a replayed world are the same."""
    rating: domain.SatisfactionRating = {"id": 5, "score": "good", "comment": "",
                                         "created_at": T0 + 10.7, "updated_at": T0 + 10.7}
    write_world(world_path, [make_ticket(i, T0 + i * 0.4, satisfaction=rating if i == 3
                                         else None) for i in range(1, 6)], accounts=2)
    writer = WorldWriter(world_path)
    writer.put(domain.SURVEY_RESPONSE, {
        "key": 1, "id": "resp_1", "account_key": 1, "contact_key": 1, "workspace_id": "ws_1",
        "email": "ada1@acme1.example", "survey": "ces", "score": 6, "scale_min": 1,
        "scale_max": 7, "comment": "", "submitted_at": T0 + 0.5, "updated_at": T0 + 0.9})
    writer.close()
    export_world(world_path, tmp_path / "export")
    replay = tmp_path / "replay" / "world.sqlite"
    load_fixture_dir(tmp_path / "export", replay)

    def objects(path: Path) -> list[tuple[Any, ...]]:
        rows = WorldReader(path).conn.execute(
            "select vendor, kind, id, created, updated, deleted, body from objects "
            "where vendor in ('zendesk', 'slack', 'product') order by vendor, kind, id",
        ).fetchall()
        return [(*row[:-1], json.loads(row[-1])) for row in rows]

    original = objects(world_path)
    assert {(row[0], row[1]) for row in original} >= {
        ("zendesk", "_org_by_account"), ("zendesk", "tickets"), ("zendesk", "ticket_metrics"),
        ("zendesk", "satisfaction_ratings"), ("slack", "users"), ("slack", "channels"),
        ("product", "users"), ("product", "survey_responses")}
    assert objects(replay) == original


def test_generated_world_exports_every_ticket_with_its_organization(
        sandbox: SandboxServer, session: requests.Session) -> None:
    """On the generated small company: the cursor export walks every ticket once, and every
    requester is an end user of the ticket's organization."""
    url = sandbox.url("zendesk") + "/api/v2/incremental/tickets/cursor.json"
    tickets, last, _ = export_all(session, url, {"start_time": 0, "per_page": 100})
    assert len(tickets) == sandbox.world.count("zendesk", "tickets") > 0
    assert len({t["id"] for t in tickets}) == len(tickets) and last["after_cursor"]
    users = {u["id"]: u for u in sandbox.world.iter_objects("zendesk", "users")}
    orgs = {o["id"] for o in sandbox.world.iter_objects("zendesk", "organizations")}
    for ticket in tickets:
        requester = users[ticket["requester_id"]]
        assert requester["role"] == "end-user"
        assert requester["organization_id"] == ticket["organization_id"] in orgs
        assert ticket["custom_fields"][0]["value"] in ticket["tags"]
