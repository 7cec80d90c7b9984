"""The HubSpot CRM v3 emulation: rendering, reads, search, associations, writes, wire format."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from integrations.sandbox.credentials import DEFAULT_SECRETS
from integrations.sandbox.domain import ACCOUNT, CONTACT, DEAL
from integrations.sandbox.fixtures import export_world, load_fixture_dir
from integrations.sandbox.routing import RateLimit
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.store import WorldReader, WorldWriter
from integrations.sandbox.vendors.hubspot import HubSpot
from integrations.sandbox.vendors.hubspot_render import dollars, industry_value
from tests.integrations.sandbox.crm_support import (
    T0,
    Answer,
    Caller,
    account,
    contact,
    deal,
    write_world,
)

TOKEN = DEFAULT_SECRETS["hubspot_token"]
SPECS = Path(__file__).resolve().parents[3].parent / "shared" / "vendor-specs"
COMPANY = "7000000001"


def millis(seconds: float) -> str:
    return str(round(seconds * 1000))


def parse_as(package: str, model: str, body: Any) -> Any:
    """Deserialize a response body with the official client's generated model (validating)."""
    client = importlib.import_module(f"hubspot.crm.{package}.api_client").ApiClient()
    return client.deserialize(SimpleNamespace(data=json.dumps(body)), model)


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """Five companies with one contact and one deal each; contact 2 has left, account 2 lacks
    its Stripe id in the CRM, deal 3 is an open expansion."""
    return write_world(tmp_path / "world.sqlite", accounts=5, extra=[
        (ACCOUNT, account(2, stripe_id_in_crm=False)),
        (CONTACT, contact(2, 2, left_at=T0 + 2500, updated_at=T0 + 2500)),
        (DEAL, deal(3, 3, stage="open", deal_type="expansion", close_date="2024-12-31")),
    ])


@pytest.fixture
def server(world: Path) -> Iterator[SandboxServer]:
    with SandboxServer(world) as running:
        yield running


@pytest.fixture
def hubspot(server: SandboxServer) -> Caller:
    return Caller(server, "hubspot", TOKEN)


def walk(hubspot: Caller, path: str, **query: Any) -> list[dict[str, Any]]:
    """Every result of a list endpoint, following `paging.next.after`."""
    results: list[dict[str, Any]] = []
    after = None
    while True:
        answer = hubspot("GET", path, query={**query, **({"after": after} if after else {})})
        assert answer.status == 200, answer.body
        results += answer.body["results"]
        after = answer.body.get("paging", {}).get("next", {}).get("after")
        if after is None:
            return results


def search(hubspot: Caller, kind: str, **body: Any) -> Answer:
    return hubspot("POST", f"/crm/v3/objects/{kind}/search", body=body)


def modified_since(value: str, operator: str = "GT",
                   name: str = "hs_lastmodifieddate") -> dict[str, Any]:
    return {"filterGroups": [{"filters": [{"propertyName": name, "operator": operator,
                                           "value": value}]}],
            "sorts": [{"propertyName": name, "direction": "ASCENDING"}]}


# -- rendering ------------------------------------------------------------------------------------

def test_company_properties_are_strings_or_null_with_the_custom_properties(hubspot: Caller,
                                                                          ) -> None:
    body = hubspot("GET", f"/crm/v3/objects/companies/{COMPANY}", query={"properties": ",".join(
        ["name", "domain", "industry", "numberofemployees", "country", "hubspot_owner_id",
         "lifecyclestage", "csp_stripe_customer_id", "csp_workspace_id", "csp_segment",
         "csp_renewal_date", "csp_plan", "csp_seats"])}).body
    assert body["properties"] == {
        "name": "Acme 1", "domain": "acme1.example", "industry": "FINANCIAL_SERVICES",
        "numberofemployees": "51", "country": "DE", "hubspot_owner_id": "52550151",
        "lifecyclestage": "customer", "csp_stripe_customer_id": "cus_000001",
        "csp_workspace_id": "ws_0001", "csp_segment": "mid_market",
        "csp_renewal_date": "2025-01-01", "csp_plan": "growth", "csp_seats": "20",
        "createdate": "2024-03-01T10:00:01.000Z", "hs_lastmodifieddate": "2024-03-01T10:16:41.000Z",
        "hs_object_id": COMPANY,
    }
    assert (body["createdAt"], body["updatedAt"], body["archived"]) == (
        "2024-03-01T10:00:01.000Z", "2024-03-01T10:16:41.000Z", False)
    other = hubspot("GET", "/crm/v3/objects/companies/7000000002",
                    query={"properties": "csp_stripe_customer_id"}).body
    assert other["properties"]["csp_stripe_customer_id"] is None


def test_deals_carry_stage_type_amount_and_a_null_close_date_until_forecast(
        hubspot: Caller) -> None:
    deals = {d["id"]: d["properties"] for d in walk(
        hubspot, "/crm/v3/objects/deals",
        properties="dealstage,amount,closedate,dealtype,csp_deal_kind,pipeline")}
    won = deals["6744190001"]
    assert (won["dealstage"], won["amount"], won["closedate"], won["dealtype"],
            won["csp_deal_kind"], won["pipeline"]) == (
        "closedwon", "12000", "2024-02-01T00:00:00.000Z", "existingbusiness", "renewal",
        "default")
    expansion = deals["6744190003"]
    assert (expansion["dealstage"], expansion["closedate"], expansion["csp_deal_kind"]) == (
        "appointmentscheduled", None, "expansion")
    assert dollars(1_234_550) == "12345.5" and dollars(99) == "0.99"
    assert industry_value("E-commerce & Retail") == "E_COMMERCE_RETAIL"


def test_owners_have_the_owners_api_shape_and_filter_by_email(hubspot: Caller) -> None:
    listing = hubspot("GET", "/crm/v3/owners").body
    parsed = parse_as("owners", "CollectionResponsePublicOwnerForwardPaging", listing)
    owner = parsed.results[0]
    assert (owner.id, owner.email, owner.first_name, owner.type, owner.archived) == (
        "52550151", "csm1@vendor.example", "Ada", "PERSON", False)
    assert owner.teams[0].name == "Enterprise CS" and isinstance(owner.user_id, int)
    assert hubspot("GET", "/crm/v3/owners/", query={"email": "csm1@vendor.example"}).body[
        "results"][0]["id"] == "52550151"
    assert hubspot("GET", "/crm/v3/owners", query={"email": "nobody@x.example"}).body == {
        "results": []}
    assert hubspot("GET", "/crm/v3/owners/52550151").body["lastName"] == "Owner1"


# -- list and read ------------------------------------------------------------------------------

def test_paging_walks_every_company_exactly_once_even_while_they_change(hubspot: Caller,
                                                                        ) -> None:
    first = hubspot("GET", "/crm/v3/objects/companies", query={"limit": 2}).body
    assert len(first["results"]) == 2
    assert first["paging"]["next"]["link"].startswith(hubspot.server.url("hubspot"))
    # A write between pages moves the company to the end of a modification-ordered list;
    # list pages are ordered by creation, so nothing is skipped or repeated.
    assert hubspot("PATCH", "/crm/v3/objects/companies/7000000004",
                   body={"properties": {"csp_health_score": "40"}}).status == 200
    rest = walk(hubspot, "/crm/v3/objects/companies", limit=2,
                after=first["paging"]["next"]["after"])
    ids = [c["id"] for c in first["results"] + rest]
    assert sorted(ids) == [str(7000000000 + k) for k in range(1, 6)]
    assert len(ids) == len(set(ids))


def test_list_limits_and_bad_cursors_answer_hubspot_errors(hubspot: Caller) -> None:
    too_many = hubspot("GET", "/crm/v3/objects/companies", query={"limit": 101})
    assert too_many.status == 400 and too_many.body["category"] == "VALIDATION_ERROR"
    bad = hubspot("GET", "/crm/v3/objects/companies", query={"after": "not-a-cursor"})
    assert bad.status == 400 and "after" in bad.body["message"]
    assert hubspot("GET", "/crm/v3/objects/widgets").status == 400


def test_properties_parameter_selects_properties_and_defaults_apply(hubspot: Caller) -> None:
    chosen = hubspot("GET", "/crm/v3/objects/contacts/101",
                     query={"properties": "email,jobtitle,no_such_property"}).body
    # HubSpot always adds the id and the creation/modification properties.
    assert sorted(chosen["properties"]) == ["createdate", "email", "hs_object_id", "jobtitle",
                                            "lastmodifieddate"]
    default = hubspot("GET", "/crm/v3/objects/contacts/101").body
    assert sorted(default["properties"]) == ["createdate", "email", "firstname", "hs_object_id",
                                             "lastmodifieddate", "lastname"]
    full = hubspot("GET", "/crm/v3/objects/contacts/101", query={
        "properties": ["csp_contact_role", "associatedcompanyid,notes_last_contacted"]}).body
    assert full["properties"]["csp_contact_role"] == "champion"
    assert full["properties"]["associatedcompanyid"] == COMPANY
    assert full["properties"]["notes_last_contacted"] == "2024-03-01T10:25:00.000Z"


def test_departed_contacts_are_archived_and_listed_only_with_archived_true(hubspot: Caller,
                                                                          ) -> None:
    live = walk(hubspot, "/crm/v3/objects/contacts")
    assert "102" not in {c["id"] for c in live} and len(live) == 4
    archived = walk(hubspot, "/crm/v3/objects/contacts", archived="true")
    assert [(c["id"], c["archived"], c["archivedAt"]) for c in archived] == [
        ("102", True, "2024-03-01T10:41:40.000Z")]
    assert hubspot("GET", "/crm/v3/objects/contacts/102").status == 404
    assert hubspot("GET", "/crm/v3/objects/contacts/102",
                   query={"archived": "true"}).body["archived"] is True
    missing = hubspot("GET", "/crm/v3/objects/contacts/999")
    assert (missing.status, missing.body["category"]) == (404, "OBJECT_NOT_FOUND")


def test_objects_can_be_read_by_a_unique_property(hubspot: Caller) -> None:
    found = hubspot("GET", "/crm/v3/objects/contacts/cleo3@acme3.example",
                    query={"idProperty": "email"})
    assert found.body["id"] == "103"
    assert hubspot("GET", "/crm/v3/objects/contacts/x", query={"idProperty": "a.b"}).status == 400


def test_list_responses_parse_with_the_official_client_models(hubspot: Caller) -> None:
    body = hubspot("GET", "/crm/v3/objects/companies",
                   query={"limit": 3, "associations": "contacts,deals"}).body
    parsed = parse_as("companies",
                      "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging", body)
    first = parsed.results[0]
    assert first.id == COMPANY and first.properties["name"] == "Acme 1"
    assert first.created_at.year == 2024 and parsed.paging.next.after
    assert {a.id for a in first.associations["contacts"].results} == {"101"}
    assert {a.type for a in first.associations["deals"].results} == {
        "company_to_deal", "company_to_deal_unlabeled"}
    single = hubspot("GET", "/crm/v3/objects/deals/6744190001").body
    assert parse_as("deals", "SimplePublicObjectWithAssociations", single).id == "6744190001"


# -- search -------------------------------------------------------------------------------------

def test_search_returns_only_objects_modified_after_the_cursor_in_order(hubspot: Caller,
                                                                        ) -> None:
    answer = search(hubspot, "companies", **modified_since(millis(T0 + 1002)))
    parsed = parse_as("companies", "CollectionResponseWithTotalSimplePublicObjectForwardPaging",
                      answer.body)
    assert parsed.total == 3
    assert [r.id for r in parsed.results] == ["7000000003", "7000000004", "7000000005"]
    assert search(hubspot, "companies", **modified_since(millis(T0 + 1002), "GTE")).body[
        "total"] == 4


def test_search_compares_at_millisecond_resolution(hubspot: Caller) -> None:
    stamp = int(millis(T0 + 1003))
    cases = {"EQ": 1, "GT": 2, "GTE": 3, "LT": 2, "LTE": 3}
    for operator, expected in cases.items():
        body = search(hubspot, "companies", **modified_since(str(stamp), operator)).body
        assert body["total"] == expected, operator
    between = {"filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate",
                                              "operator": "BETWEEN", "value": str(stamp),
                                              "highValue": str(stamp + 1000)}]}]}
    assert search(hubspot, "companies", **between).body["total"] == 2
    iso = search(hubspot, "companies", **modified_since("2024-03-01T10:16:43.000Z"))
    assert iso.body["total"] == 2


def test_search_pages_by_offset_until_total_and_walks_each_object_once(hubspot: Caller,
                                                                       ) -> None:
    seen, after = [], None
    while True:
        body = search(hubspot, "contacts", limit=1,
                      **({"after": after} if after else {}),
                      **modified_since("0", "GTE", "lastmodifieddate")).body
        seen += [r["id"] for r in body["results"]]
        after = body.get("paging", {}).get("next", {}).get("after")
        if after is None:
            break
    assert seen == ["101", "103", "104", "105"] and body["total"] == 4  # 102 is archived


def test_search_groups_or_and_other_properties_filter_per_object(hubspot: Caller) -> None:
    either = {"filterGroups": [
        {"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": COMPANY}]},
        {"filters": [{"propertyName": "domain", "operator": "IN",
                      "values": ["ACME5.example", "acme4.example"]}]}]}
    assert sorted(r["id"] for r in search(hubspot, "companies", **either).body["results"]) == [
        "7000000001", "7000000004", "7000000005"]
    query = search(hubspot, "contacts", query="cleo3").body
    assert [r["id"] for r in query["results"]] == ["103"]
    numeric = {"filterGroups": [{"filters": [{"propertyName": "numberofemployees",
                                              "operator": "GT", "value": "53"}]}]}
    assert search(hubspot, "companies", **numeric).body["total"] == 2


def test_search_refuses_what_hubspot_refuses(hubspot: Caller) -> None:
    capped = search(hubspot, "companies", after="10000")
    assert capped.status == 400 and capped.body["category"] == "VALIDATION_ERROR"
    assert "10000" in capped.body["message"] and capped.body["correlationId"]
    assert search(hubspot, "companies", limit=201).status == 400
    assert search(hubspot, "companies", filterGroups=[{"filters": [
        {"propertyName": "name", "operator": "ROUGHLY", "value": "x"}]}]).status == 400
    assert search(hubspot, "companies", sorts=[{"propertyName": "name"}]).status == 400
    bad_time = modified_since("yesterday")
    assert search(hubspot, "companies", **bad_time).status == 400


def test_objects_sharing_one_timestamp_are_all_found_by_gte(hubspot: Caller) -> None:
    control = hubspot.server.dispatch("POST", "/_sandbox/same-timestamp", Message(),
                                      json.dumps({"vendor": "hubspot", "kind": "contact",
                                                  "count": 3}).encode())
    assert control.body == {"changed": 3}
    body = search(hubspot, "contacts", **modified_since("0", "GTE", "lastmodifieddate")).body
    stamps = [r["properties"]["lastmodifieddate"] for r in body["results"]]
    assert stamps.count("2024-03-01T10:33:25.000Z") == 3
    newest = body["results"][-1]
    assert newest["updatedAt"] == newest["properties"]["lastmodifieddate"]
    shared = search(hubspot, "contacts", **modified_since(millis(T0 + 2005), "GTE",
                                                          "lastmodifieddate")).body
    assert shared["total"] == 3


# -- associations -------------------------------------------------------------------------------

def test_v4_associations_list_and_batch_read(hubspot: Caller) -> None:
    listing = hubspot("GET", f"/crm/v4/objects/companies/{COMPANY}/associations/contacts").body
    parsed = parse_as("associations.v4",
                      "CollectionResponseMultiAssociatedObjectWithLabelForwardPaging", listing)
    assert parsed.results[0].to_object_id == "101"
    assert {t.type_id for t in parsed.results[0].association_types} == {2, 280}
    back = hubspot("GET", "/crm/v4/objects/contact/101/associations/company").body
    assert back["results"][0]["toObjectId"] == int(COMPANY)
    batch = hubspot("POST", "/crm/v4/associations/companies/deals/batch/read",
                    body={"inputs": [{"id": COMPANY}, {"id": "404"}]})
    assert batch.status == 207
    assert [r["from"]["id"] for r in batch.body["results"]] == [COMPANY]
    assert batch.body["errors"][0]["context"] == {"fromObjectId": ["404"]}
    parse_as("associations.v4", "BatchResponsePublicAssociationMultiWithLabelWithErrors",
             batch.body)
    archived = hubspot("GET", "/crm/v4/objects/companies/7000000002/associations/contacts")
    assert archived.body == {"results": []}  # its only contact left the company


# -- writes -------------------------------------------------------------------------------------

def upsert(hubspot: Caller, *inputs: dict[str, Any]) -> Answer:
    return hubspot("POST", "/crm/v3/objects/tasks/batch/upsert", body={"inputs": list(inputs)})


def task_input(key: str, **properties: Any) -> dict[str, Any]:
    return {"idProperty": "csp_task_key", "id": key,
            "properties": {"hs_timestamp": "2024-04-01T09:00:00Z",
                           "hs_task_subject": "Renewal prep", **properties}}


def test_task_upsert_by_unique_property_is_idempotent(hubspot: Caller) -> None:
    first = upsert(hubspot, task_input("acct-1:renewal:2024-04"))
    assert first.status == 200 and first.body["results"][0]["new"] is True
    parse_as("objects.tasks", "BatchResponseSimplePublicUpsertObject", first.body)
    again = upsert(hubspot, task_input("acct-1:renewal:2024-04", hs_task_priority="HIGH"))
    assert again.body["results"][0]["new"] is False
    assert again.body["results"][0]["id"] == first.body["results"][0]["id"]
    tasks = walk(hubspot, "/crm/v3/objects/tasks",
                 properties="csp_task_key,hs_task_priority,hs_timestamp")
    assert [(t["properties"]["csp_task_key"], t["properties"]["hs_task_priority"],
             t["properties"]["hs_timestamp"]) for t in tasks] == [
        ("acct-1:renewal:2024-04", "HIGH", "2024-04-01T09:00:00.000Z")]
    pushed = hubspot.server.world.pushed("hubspot", "task")
    assert [p["key"] for p in pushed] == ["acct-1:renewal:2024-04"] * 2


def test_task_upsert_validates_like_hubspot(hubspot: Caller) -> None:
    over = upsert(hubspot, *[task_input(f"k{n}") for n in range(101)])
    assert over.status == 400 and "100" in over.body["message"]
    assert upsert(hubspot, task_input("same"), task_input("same")).status == 400
    assert upsert(hubspot, {**task_input("x"), "idProperty": "hs_task_subject"}).status == 400
    no_time = upsert(hubspot, {"idProperty": "csp_task_key", "id": "new",
                               "properties": {"hs_task_subject": "x"}})
    assert no_time.status == 400 and "hs_timestamp" in no_time.body["message"]
    bad_option = upsert(hubspot, task_input("y", hs_task_status="MAYBE"))
    assert bad_option.status == 400 and "INVALID_OPTION" in bad_option.body["message"]
    assert walk(hubspot, "/crm/v3/objects/tasks") == []


def test_task_create_associates_the_task_and_refuses_duplicates(hubspot: Caller) -> None:
    properties = {"hs_timestamp": str(int(T0 * 1000)), "hs_task_subject": "Call",
                  "csp_task_key": "k-1", "hubspot_owner_id": "52550151"}
    body: dict[str, Any] = {"properties": properties,
            "associations": [{"to": {"id": COMPANY}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}]}]}
    created = hubspot("POST", "/crm/v3/objects/tasks", body=body)
    assert created.status == 201
    task_id = created.body["id"]
    assert created.body["properties"]["hs_timestamp"] == "2024-03-01T10:00:00.000Z"
    linked = hubspot("GET", f"/crm/v4/objects/companies/{COMPANY}/associations/tasks").body
    assert [r["toObjectId"] for r in linked["results"]] == [int(task_id)]
    duplicate = hubspot("POST", "/crm/v3/objects/tasks", body=body)
    assert (duplicate.status, duplicate.body["category"]) == (409, "CONFLICT")
    orphan = {**body, "properties": {**properties, "csp_task_key": "k-2"},
              "associations": [{"to": {"id": "1"}, "types": [{"associationTypeId": 192}]}]}
    assert hubspot("POST", "/crm/v3/objects/tasks", body=orphan).status == 400
    bad_owner = {"properties": {**properties, "csp_task_key": "k-3",
                                "hubspot_owner_id": "1"}}
    assert hubspot("POST", "/crm/v3/objects/tasks", body=bad_owner).status == 400


def test_company_update_is_stored_and_seen_by_incremental_search(hubspot: Caller) -> None:
    updated = hubspot("PATCH", f"/crm/v3/objects/companies/{COMPANY}",
                      body={"properties": {"csp_health_score": 42, "csp_health_band": "critical"}})
    assert updated.status == 200
    assert updated.body["properties"]["csp_health_score"] == "42"
    changed = search(hubspot, "companies", **modified_since(millis(T0 + 1005))).body
    assert [r["id"] for r in changed["results"]] == [COMPANY]
    assert hubspot.server.world.pushed("hubspot", "company_update")[0]["key"] == COMPANY
    refused = hubspot("PATCH", f"/crm/v3/objects/companies/{COMPANY}",
                      body={"properties": {"favourite_colour": "red", "hs_object_id": "1"}})
    assert refused.status == 400
    errors = json.loads(refused.body["message"].split(": ", 1)[1])
    assert {e["error"] for e in errors} == {"PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE"}
    assert hubspot("PATCH", "/crm/v3/objects/companies/1", body={"properties": {}}).status == 404


def test_company_batch_update_reports_unknown_ids_in_hubspots_batch_shape(hubspot: Caller,
                                                                          ) -> None:
    answer = hubspot("POST", "/crm/v3/objects/companies/batch/update", body={"inputs": [
        {"id": COMPANY, "properties": {"csp_health_score": "77"}},
        {"id": "42", "properties": {"csp_health_score": "1"}}]})
    assert answer.status == 207 and answer.body["numErrors"] == 1
    assert answer.body["errors"][0]["context"] == {"ids": ["42"]}
    parsed = parse_as("companies", "BatchResponseSimplePublicObjectWithErrors", answer.body)
    assert parsed.results[0].properties["csp_health_score"] == "77"
    too_many = [{"id": COMPANY, "properties": {}}] * 101
    assert hubspot("POST", "/crm/v3/objects/companies/batch/update",
                   body={"inputs": too_many}).status == 400


def test_generator_updates_keep_connector_properties_and_move_time_forward(world: Path,
                                                                           ) -> None:
    with SandboxServer(world) as server:
        caller = Caller(server, "hubspot", TOKEN)
        written = caller("PATCH", f"/crm/v3/objects/companies/{COMPANY}",
                         body={"properties": {"csp_health_score": "64"}}).body
    writer = WorldWriter(world)
    writer.put(ACCOUNT, account(1, name="Acme One", updated_at=T0 + 5000))
    writer.close()
    stored = WorldReader(world).get("hubspot", "companies", COMPANY)
    assert stored is not None
    assert stored["properties"]["name"] == "Acme One"
    assert stored["properties"]["csp_health_score"] == "64"
    assert stored["updatedAt"] > written["updatedAt"]


# -- wire format over HTTP ----------------------------------------------------------------------

def test_auth_failures_answer_hubspots_401_body_without_the_token(world: Path) -> None:
    with SandboxServer(world) as server:
        url = server.url("hubspot") + "/crm/v3/objects/companies"
        for headers in ({}, {"Authorization": "Bearer pat-wrong"}):
            answer = requests.get(url, headers=headers, timeout=10)
            assert answer.status_code == 401
            body = answer.json()
            assert body["category"] == "INVALID_AUTHENTICATION"
            assert body["message"].startswith("Authentication credentials not found")
            assert body["status"] == "error" and body["correlationId"]
            assert TOKEN not in answer.text


def test_rate_limit_headers_on_every_answer_and_hubspots_429(world: Path) -> None:
    with SandboxServer(world, rate_limits={"hubspot": RateLimit(2, 10.0)}) as server:
        url = server.url("hubspot") + "/crm/v3/objects/companies"
        headers = {"Authorization": f"Bearer {TOKEN}"}
        first = requests.get(url, headers=headers, timeout=10)
        assert first.headers["X-HubSpot-RateLimit-Max"] == "2"
        assert first.headers["X-HubSpot-RateLimit-Remaining"] == "1"
        assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        requests.get(url, headers=headers, timeout=10)
        limited = requests.get(url, headers=headers, timeout=10)
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        body = limited.json()
        assert (body["errorType"], body["policyName"], body["message"]) == (
            "RATE_LIMIT", "TEN_SECONDLY_ROLLING",
            "You have reached your ten_secondly_rolling limit.")


def test_injected_faults_use_hubspots_bodies_and_reach_the_records(world: Path) -> None:
    with SandboxServer(world) as server:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        companies = server.url("hubspot") + "/crm/v3/objects/companies"
        faults = server.base_url + "/_sandbox/faults"
        requests.post(faults, timeout=10, json={
            "vendor": "hubspot", "kind": "http_error", "route": "companies.list", "count": 1,
            "status": 502})
        failed = requests.get(companies, headers=headers, timeout=10)
        assert failed.status_code == 502 and failed.json()["status"] == "error"
        requests.post(faults, timeout=10, json={
            "vendor": "hubspot", "kind": "drift_rename", "route": "companies.*", "count": 1,
            "field": "properties.domain", "to": "website"})
        drifted = requests.get(companies, headers=headers, timeout=10).json()["results"]
        assert all("website" in c["properties"] and "domain" not in c["properties"]
                   for c in drifted)


# -- the generated company ----------------------------------------------------------------------

def test_generated_world_pages_parse_and_cover_every_object(sandbox: SandboxServer) -> None:
    hubspot = Caller(sandbox, "hubspot", TOKEN)
    world = sandbox.world
    pages, after = [], None
    while True:
        body = hubspot("GET", "/crm/v3/objects/companies", query={
            "limit": 100, "associations": "contacts", **({"after": after} if after else {})}).body
        pages.append(parse_as(
            "companies", "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging",
            body))
        after = body.get("paging", {}).get("next", {}).get("after")
        if after is None:
            break
    ids = [company.id for page in pages for company in page.results]
    assert len(ids) == len(set(ids)) == world.count("hubspot", "companies")
    live_contacts = world.count("hubspot", "contacts", include_deleted=False)
    found: list[str] = []
    offset: int | None = 0
    total = None
    while offset is not None:
        body = search(hubspot, "contacts", limit=200, after=str(offset),
                      **modified_since("0", "GTE", "lastmodifieddate")).body
        parsed = parse_as("contacts",
                          "CollectionResponseWithTotalSimplePublicObjectForwardPaging", body)
        found += [r.id for r in parsed.results]
        total = parsed.total
        offset = int(parsed.paging.next.after) if parsed.paging else None
    assert len(found) == len(set(found)) == total == live_contacts
    stamps = [c["properties"]["lastmodifieddate"] for c in search(
        hubspot, "contacts", limit=200, **modified_since("0", "GTE", "lastmodifieddate")).body[
        "results"]]
    assert stamps == sorted(stamps)
    owners = hubspot("GET", "/crm/v3/owners").body
    assert len(parse_as("owners", "CollectionResponsePublicOwnerForwardPaging",
                        owners).results) == world.count("hubspot", "owners")
    batch = hubspot("POST", "/crm/v4/associations/companies/contacts/batch/read",
                    body={"inputs": [{"id": company_id} for company_id in ids[:50]]}).body
    parse_as("associations.v4", "BatchResponsePublicAssociationMultiWithLabelWithErrors", batch)


# -- fixtures -----------------------------------------------------------------------------------

def test_published_sample_responses_load_and_serve_back(tmp_path: Path) -> None:
    samples = json.loads((SPECS / "hubspot" / "crm_v3_sample_responses.json").read_text())
    fixtures = tmp_path / "fixtures" / "hubspot"
    fixtures.mkdir(parents=True)
    for kind in ("companies", "contacts", "deals"):
        (fixtures / f"{kind}.json").write_text(json.dumps(samples[f"mock_{kind}_data"]))
    world = tmp_path / "world.sqlite"
    load_fixture_dir(fixtures.parent, world)
    with SandboxServer(world) as server:
        caller = Caller(server, "hubspot", TOKEN)
        for kind in ("companies", "contacts", "deals"):
            served = walk(caller, f"/crm/v3/objects/{kind}")
            assert served == samples[f"mock_{kind}_data"]["results"], kind


def test_exported_crm_world_reloads_identically(world: Path, tmp_path: Path) -> None:
    with SandboxServer(world) as server:
        Caller(server, "hubspot", TOKEN)("POST", "/crm/v3/objects/tasks/batch/upsert",
                                         body={"inputs": [task_input("exported")]})
    export_world(world, tmp_path / "export")
    replay = tmp_path / "replay.sqlite"
    load_fixture_dir(tmp_path / "export", replay)
    original, copy = WorldReader(world), WorldReader(replay)
    for vendor, kind in original.object_kinds():
        if vendor == "hubspot":
            assert list(copy.iter_objects(vendor, kind)) == list(
                original.iter_objects(vendor, kind)), kind
    with SandboxServer(replay) as server:
        links = Caller(server, "hubspot", TOKEN)(
            "GET", f"/crm/v4/objects/companies/{COMPANY}/associations/deals").body
    assert [r["toObjectId"] for r in links["results"]] == [6744190001]


def test_fixture_objects_missing_a_field_are_refused_by_name(tmp_path: Path) -> None:
    writer = WorldWriter(tmp_path / "w.sqlite")
    vendor = HubSpot({})
    with pytest.raises(ValueError, match="updatedAt"):
        vendor.load_fixture("companies", {"id": "1", "properties": {},
                                          "createdAt": "2024-01-01T00:00:00Z"}, writer.sink)
    with pytest.raises(ValueError, match="fromObjectId"):
        vendor.load_fixture("associations", {"fromObjectType": "companies"}, writer.sink)
    writer.close()


def test_records_are_the_results_of_list_and_read_responses() -> None:
    vendor = HubSpot(DEFAULT_SECRETS)
    listing = {"results": [{"id": "1", "properties": {}}], "paging": {}}
    assert vendor.records(listing) == listing["results"]
    single = {"id": "1", "properties": {"name": "x"}}
    assert vendor.records(single) == [single]
    assert vendor.records({"status": "error"}) == []
