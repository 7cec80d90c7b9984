"""The sandbox's product feed: usage partitions (NDJSON/Parquet) and survey responses.

Each test builds its own world (contacts, usage rows, survey answers) and reads it over HTTP
from a SandboxServer on port 0, as the usage and survey connectors will.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import requests

from integrations.sandbox import domain
from integrations.sandbox.credentials import DEFAULT_SECRETS
from integrations.sandbox.routing import RateLimit
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.simulation import catalog
from integrations.sandbox.store import Sink, WorldReader, WorldWriter, connect
from integrations.sandbox.vendors.product import Product
from integrations.sandbox.vendors.product_usage import contact_user_id, expand_row

TOKEN = DEFAULT_SECRETS["product_token"]
DAY1 = 1_709_251_200.0              # 2024-03-01T00:00:00Z
DAYS = ("2024-03-01", "2024-03-02", "2024-03-03")
EVENT_KEYS = {"event_id", "workspace_id", "user_id", "feature", "event_type", "occurred_at",
              "plan"}


def owner_and_account() -> tuple[dict[str, Any], dict[str, Any]]:
    """Account 1 and its CSM: contacts may only be put after the account they belong to."""
    csm: domain.Csm = {
        "key": 1, "first_name": "Ann", "last_name": "Owner", "email": "ann@vendor.example",
        "team": "smb", "created_at": DAY1 - 86_400 * 30, "hubspot_owner_id": "52550001",
        "salesforce_user_id": "005000000000000001", "slack_user_id": "U0OWNER001",
        "zendesk_agent_id": 800_001}
    account: domain.Account = {
        "key": 1, "name": "Acme", "domain": "acme.example", "billing_domain": "acme.example",
        "industry": "Retail", "employees": 80, "country": "DE", "segment": "smb",
        "owner_key": 1, "onboarding_owner_key": 1, "lifecycle_stage": "customer",
        "customer_since": "2023-06-01", "created_at": DAY1 - 86_400 * 30,
        "updated_at": DAY1 - 86_400 * 30, "workspace_id": "ws_0001",
        "hubspot_company_id": "9001", "salesforce_account_id": "001000000000000001",
        "stripe_customer_id": "cus_00000000000001", "zendesk_organization_id": 360_001,
        "stripe_id_in_crm": True, "zendesk_external_id": "ext-1", "currency": "eur",
        "billing_email": "billing@acme.example", "plan": "growth", "seats": 10,
        "renewal_date": "2024-06-01"}
    return dict(csm), dict(account)


def person(key: int, role: str, *, created: float = DAY1 - 86_400,
           left: float | None = None) -> dict[str, Any]:
    """A contact of account 1 (only the fields the product roster reads differ by test)."""
    contact: domain.Contact = {
        "key": key, "account_key": 1, "first_name": "Lin", "last_name": f"P{key}",
        "email": f"lin{key}@acme.example", "title": "Analyst", "role": role,  # type: ignore[typeddict-item]
        "created_at": created, "updated_at": created, "last_engaged_at": None, "left_at": left,
        "hubspot_contact_id": str(key), "salesforce_contact_id": f"003{key:015d}",
        "zendesk_user_id": 500_000 + key,
    }
    return dict(contact)


def usage_row(day: str, account_key: int, **changes: Any) -> dict[str, Any]:
    row: domain.UsageDay = {
        "day": day, "account_key": account_key, "workspace_id": f"ws_{account_key:04d}",
        "active_users": 4, "feature_events": {"dashboards": 9, "reports": 3},
        "gated_attempts": {"sso": 2}, "limit_hits": 1, "plan": "growth",
    }
    row.update(changes)  # type: ignore[typeddict-item]
    return dict(row)


def survey(number: int, updated: float, survey_kind: str = "nps") -> dict[str, Any]:
    response: domain.SurveyResponse = {
        "key": number, "id": f"resp_{number:04d}", "account_key": 1, "contact_key": 1,
        "workspace_id": "ws_0001", "email": "lin1@acme.example",
        "survey": survey_kind, "score": number % 11,  # type: ignore[typeddict-item]
        "scale_min": 0, "scale_max": 10, "comment": "", "submitted_at": updated - 60,
        "updated_at": updated, "extra": {"channel": "in_app"},
    }
    return dict(response)


ROWS = [usage_row(DAYS[0], 1), usage_row(DAYS[0], 2, active_users=2, limit_hits=0),
        usage_row(DAYS[1], 1, feature_events={"dashboards": 5}, gated_attempts={}),
        usage_row(DAYS[2], 1, active_users=6)]


@pytest.fixture()
def world_path(tmp_path: Path) -> Path:
    path = tmp_path / "world.sqlite"
    writer = WorldWriter(path)
    csm, account = owner_and_account()
    writer.put(domain.CSM, csm)
    writer.put(domain.ACCOUNT, account)
    writer.put(domain.CONTACT, person(1, "champion"))
    writer.put(domain.CONTACT, person(2, "end_user", left=DAY1 + 86_400 - 1))
    writer.put(domain.CONTACT, person(3, "decision_maker", created=DAY1 + 2 * 86_400 + 5))
    writer.put_usage(ROWS)
    for number in range(1, 6):
        writer.put(domain.SURVEY_RESPONSE, survey(number, DAY1 + (number // 2) * 3600))
    writer.close()
    return path


@pytest.fixture()
def server(world_path: Path) -> Iterator[SandboxServer]:
    with SandboxServer(world_path) as running:
        yield running


@pytest.fixture()
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        yield session


def expected_events(row: dict[str, Any]) -> int:
    return (sum(row["feature_events"].values()) + sum(row["gated_attempts"].values())
            + row["limit_hits"] * bool(row["feature_events"]))


def download(http: requests.Session, server: SandboxServer, day: str) -> requests.Response:
    url = f"{server.url('product')}/v1/usage/partitions/{day}/events.ndjson"
    answer = http.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer


# -- usage partitions -----------------------------------------------------------------------

def test_partitions_list_every_day_with_counts_and_checksums(server: SandboxServer,
                                                             http: requests.Session) -> None:
    listing = http.get(server.url("product") + "/v1/usage/partitions", timeout=10).json()
    assert [p["date"] for p in listing["partitions"]] == list(DAYS)
    assert listing["next_cursor"] is None
    first = listing["partitions"][0]
    assert first["path"] == "/product/v1/usage/partitions/2024-03-01/events.ndjson"
    assert first["url"] == server.base_url + first["path"]
    assert first["updated_at"] == "2024-03-02T00:00:00Z"
    for entry in listing["partitions"]:
        rows = [row for row in ROWS if row["day"] == entry["date"]]
        assert entry["events"] == sum(expected_events(row) for row in rows)
        body = http.get(server.base_url + entry["path"], timeout=10).content
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]

    paged = http.get(server.url("product") + "/v1/usage/partitions", params={"limit": 2},
                     timeout=10).json()
    assert [p["date"] for p in paged["partitions"]] == list(DAYS[:2])
    rest = http.get(server.url("product") + "/v1/usage/partitions",
                    params={"cursor": paged["next_cursor"]}, timeout=10).json()
    assert [p["date"] for p in rest["partitions"]] == [DAYS[2]]
    since = http.get(server.url("product") + "/v1/usage/partitions",
                     params={"since": DAYS[1]}, timeout=10).json()
    assert [p["date"] for p in since["partitions"]] == list(DAYS[1:])


def test_event_file_expands_rows_exactly_and_is_stable(world_path: Path,
                                                       server: SandboxServer,
                                                       http: requests.Session) -> None:
    answer = download(http, server, DAYS[0])
    assert answer.headers["Content-Type"] == "application/x-ndjson"
    events = [json.loads(line) for line in answer.text.splitlines()]
    assert all(EVENT_KEYS <= set(e) <= EVENT_KEYS | {"user_email"} for e in events)
    counted = Counter((e["workspace_id"], e["event_type"], e["feature"]) for e in events)
    assert counted == Counter({
        ("ws_0001", "feature_used", "dashboards"): 9, ("ws_0001", "feature_used", "reports"): 3,
        ("ws_0001", "gated_feature_attempt", "sso"): 2,
        ("ws_0001", "plan_limit_hit", "dashboards"): 1,
        ("ws_0002", "feature_used", "dashboards"): 9, ("ws_0002", "feature_used", "reports"): 3,
        ("ws_0002", "gated_feature_attempt", "sso"): 2})
    stamps = [e["occurred_at"] for e in events]
    assert stamps == sorted(stamps) and all(s.startswith("2024-03-01T") for s in stamps)
    assert len({e["event_id"] for e in events}) == len(events)
    assert answer.headers["ETag"] == f'"{hashlib.sha256(answer.content).hexdigest()}"'
    assert download(http, server, DAYS[0]).content == answer.content
    with SandboxServer(world_path) as restarted:
        assert download(http, restarted, DAYS[0]).content == answer.content


def test_roster_puts_known_contacts_first_and_follows_who_left(server: SandboxServer,
                                                              http: requests.Session) -> None:
    def users(day: str, workspace: str = "ws_0001") -> dict[str, str | None]:
        events = [json.loads(line) for line in download(http, server, day).text.splitlines()]
        return {e["user_id"]: e.get("user_email") for e in events
                if e["workspace_id"] == workspace}

    first_day, second_day, third_day = (users(day) for day in DAYS)
    known = {contact_user_id(1): "lin1@acme.example", contact_user_id(2): "lin2@acme.example",
             contact_user_id(3): "lin3@acme.example"}
    assert len(first_day) == 4
    assert {uid: first_day[uid] for uid in known if uid in first_day} == {
        contact_user_id(1): "lin1@acme.example", contact_user_id(2): "lin2@acme.example"}
    assert contact_user_id(2) not in second_day and contact_user_id(1) in second_day
    assert {uid: third_day[uid] for uid in known if uid in third_day} == {
        contact_user_id(1): "lin1@acme.example", contact_user_id(3): "lin3@acme.example"}
    anonymous = [uid for uid, email in third_day.items() if email is None]
    assert len(anonymous) == 4 and all(uid.startswith("usr_") for uid in anonymous)
    assert all(email is None for email in users(DAYS[0], "ws_0002").values())


def test_expansion_is_pure_and_rotates_the_busiest_user_by_day() -> None:
    row = usage_row(DAYS[0], 1, feature_events={"dashboards": 7}, gated_attempts={},
                    limit_hits=0, active_users=3)
    assert expand_row(row, []) == expand_row(dict(row), [])
    busiest = []
    for day in DAYS:
        events = expand_row({**row, "day": day}, [])
        busiest.append(Counter(e.user.user_id for e in events).most_common(1)[0][0])
    assert len(set(busiest)) == 3
    ids = {e.event_id for day in DAYS for e in expand_row({**row, "day": day}, [])}
    assert len(ids) == 21


def test_a_row_with_as_many_events_as_active_users_shows_every_one_of_them() -> None:
    row = usage_row(DAYS[0], 1, feature_events={"dashboards": 2, "reports": 2},
                    gated_attempts={}, limit_hits=0, active_users=4)
    assert len({e.user.user_id for e in expand_row(row, [])}) == 4


def test_parquet_holds_the_same_events(server: SandboxServer, http: requests.Session) -> None:
    ndjson = [json.loads(line) for line in download(http, server, DAYS[0]).text.splitlines()]
    url = f"{server.url('product')}/v1/usage/partitions/{DAYS[0]}/events.ndjson"
    answer = http.get(url, params={"format": "parquet"}, timeout=10)
    assert answer.headers["Content-Type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(answer.content)).to_pylist()
    assert [r["event_id"] for r in table] == [e["event_id"] for e in ndjson]
    assert table[0]["occurred_at"].strftime("%Y-%m-%dT%H:%M:%SZ") == ndjson[0]["occurred_at"]
    assert [r["user_email"] for r in table] == [e.get("user_email") for e in ndjson]


def test_partition_errors(server: SandboxServer, http: requests.Session) -> None:
    base = server.url("product") + "/v1/usage/partitions"
    missing = http.get(base + "/2023-01-01/events.ndjson", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    bad_since = http.get(base, params={"since": "March"}, timeout=10)
    assert bad_since.status_code == 400 and bad_since.json()["error"] == "invalid_request"
    bad_format = http.get(base + f"/{DAYS[0]}/events.ndjson", params={"format": "csv"},
                          timeout=10)
    assert bad_format.status_code == 400
    bad_cursor = http.get(base, params={"cursor": "eHl6"}, timeout=10)
    assert bad_cursor.status_code == 400 and bad_cursor.json()["error"] == "invalid_cursor"


# -- survey responses -----------------------------------------------------------------------

def test_survey_responses_page_by_update_time(server: SandboxServer,
                                              http: requests.Session) -> None:
    url = server.url("product") + "/v1/survey-responses"
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        page = http.get(url, params=params, timeout=10).json()
        seen += [r["id"] for r in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert seen == ["resp_0001", "resp_0002", "resp_0003", "resp_0004", "resp_0005"]
    since = http.get(url, params={"updated_since": "2024-03-01T01:00:00Z"}, timeout=10).json()
    assert [r["id"] for r in since["data"]] == ["resp_0002", "resp_0003", "resp_0004",
                                                "resp_0005"]
    first = since["data"][0]
    assert first == {"id": "resp_0002", "survey": "nps", "score": 2, "scale_min": 0,
                     "scale_max": 10, "comment": "", "email": "lin1@acme.example",
                     "workspace_id": "ws_0001", "submitted_at": "2024-03-01T00:59:00Z",
                     "updated_at": "2024-03-01T01:00:00Z", "metadata": {"channel": "in_app"}}
    bad = http.get(url, params={"updated_since": "yesterday"}, timeout=10)
    assert bad.status_code == 400 and "updated_since" in bad.json()["message"]


# -- auth, limits, fixtures -----------------------------------------------------------------

def test_auth_and_rate_limit_headers(world_path: Path) -> None:
    with SandboxServer(world_path, rate_limits={"product": RateLimit(2, 60.0)}) as server:
        url = server.url("product") + "/v1/survey-responses"
        denied = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=10)
        assert denied.status_code == 401
        assert denied.json() == {"error": "unauthorized",
                                 "message": "missing or invalid bearer token"}
        assert requests.get(url, timeout=10).status_code == 401
        headers = {"Authorization": f"Bearer {TOKEN}"}
        ok = requests.get(url, headers=headers, timeout=10)
        assert (ok.headers["X-RateLimit-Limit"], ok.headers["X-RateLimit-Remaining"],
                ok.headers["X-RateLimit-Reset"]) == ("2", "1", "60")
        requests.get(url, headers=headers, timeout=10)
        limited = requests.get(url, headers=headers, timeout=10)
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-RateLimit-Remaining"] == "0"


def test_load_fixture_and_records(tmp_path: Path) -> None:
    conn = connect(tmp_path / "fixture.sqlite")
    vendor, sink = Product(DEFAULT_SECRETS), Sink(conn)
    vendor.load_fixture("survey_responses", {"id": "resp_x", "submitted_at":
                                             "2024-03-01T00:00:00Z",
                                             "updated_at": "2024-03-02T00:00:00Z"}, sink)
    vendor.load_fixture("users", {"user_id": "usr_x", "key": 9, "account_key": 1,
                                  "email": "x@acme.example", "role": "champion",
                                  "joined_at": DAY1, "left_at": None}, sink)
    with pytest.raises(ValueError, match="updated_at"):
        vendor.load_fixture("survey_responses", {"id": "resp_y",
                                                 "submitted_at": "2024-03-01"}, sink)
    conn.close()
    world = WorldReader(tmp_path / "fixture.sqlite")
    ((updated, object_id, _),) = world.scan("product", "survey_responses")
    assert (object_id, updated) == ("resp_x", DAY1 + 86_400)
    assert vendor.records({"data": [{"id": 1}]}) == [{"id": 1}]
    assert vendor.records(b"{}\n") == []


def test_generated_world_feed_agrees_with_the_catalog(sandbox: SandboxServer) -> None:
    """On the generated small company: every usage day is listed, and each event's feature
    is one the generator's catalog gives (or withholds from) the account's plan."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {TOKEN}"
    days = [day for day, _, _ in sandbox.world.usage_days()]
    url = sandbox.url("product") + "/v1/usage/partitions"
    first = http.get(url, params={"limit": 3}, timeout=60).json()
    last = http.get(url, params={"since": days[-1]}, timeout=60).json()
    listed = first["partitions"] + last["partitions"]
    assert [p["date"] for p in listed] == [*days[:3], days[-1]]
    assert first["next_cursor"] and last["next_cursor"] is None
    for entry in (listed[0], listed[-1]):
        events = [json.loads(line) for line in
                  http.get(sandbox.base_url + entry["path"], timeout=60).text.splitlines()]
        assert len(events) == entry["events"] > 0
        for event in events:
            granted = catalog.PLAN_FEATURES[event["plan"]]
            if event["event_type"] == "gated_feature_attempt":
                assert event["feature"] in catalog.PREMIUM_FEATURES
                assert event["feature"] not in granted
            else:
                assert event["feature"] in granted
    responses = http.get(sandbox.url("product") + "/v1/survey-responses",
                         params={"limit": 1000}, timeout=60).json()["data"]
    assert {r["survey"] for r in responses} == {"nps", "ces"}
    assert all(r["scale_min"] <= r["score"] <= r["scale_max"] for r in responses)
