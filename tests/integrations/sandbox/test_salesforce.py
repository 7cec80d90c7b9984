"""The Salesforce REST emulation: SOQL parsing, query paging, records, writes, wire format."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from integrations.sandbox.credentials import DEFAULT_SECRETS
from integrations.sandbox.domain import ACCOUNT, CONTACT, DEAL
from integrations.sandbox.fixtures import export_world, load_fixture_dir
from integrations.sandbox.routing import RateLimit
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.store import WorldReader, WorldWriter
from integrations.sandbox.vendors.salesforce import Salesforce
from integrations.sandbox.vendors.salesforce_schema import checksum, salesforce_id, sobject
from integrations.sandbox.vendors.salesforce_soql import (
    Comparison,
    Junction,
    Like,
    Membership,
    Not,
    SoqlError,
    check,
    parse,
)
from tests.integrations.sandbox.crm_support import (
    T0,
    Answer,
    Caller,
    account,
    contact,
    deal,
    write_world,
)

TOKEN = DEFAULT_SECRETS["salesforce_access_token"]
DATA = "/services/data/v59.0"
ACCOUNT_1 = "0015e0000000001AAA"
SF_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000")


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """Five accounts with a contact and an opportunity each; contact 2 has left, account 2
    lacks its Stripe id in the CRM, opportunity 3 is open."""
    return write_world(tmp_path / "world.sqlite", accounts=5, extra=[
        (ACCOUNT, account(2, stripe_id_in_crm=False, lifecycle_stage="former_customer")),
        (CONTACT, contact(2, 2, left_at=T0 + 2500, updated_at=T0 + 2500)),
        (DEAL, deal(3, 3, stage="open", deal_type="expansion", close_date="2024-12-31")),
    ])


@pytest.fixture
def server(world: Path) -> Iterator[SandboxServer]:
    with SandboxServer(world) as running:
        yield running


@pytest.fixture
def salesforce(server: SandboxServer) -> Caller:
    return Caller(server, "salesforce", TOKEN)


def soql(salesforce: Caller, text: str, *, everything: bool = False, batch: int | None = None,
         ) -> Answer:
    headers = {"Sforce-Query-Options": f"batchSize={batch}"} if batch else None
    return salesforce("GET", f"{DATA}/{'queryAll' if everything else 'query'}",
                      query={"q": text}, headers=headers)


def records(salesforce: Caller, text: str, **options: Any) -> list[dict[str, Any]]:
    answer = soql(salesforce, text, **options)
    assert answer.status == 200, answer.body
    return answer.body["records"]


def error_code(answer: Answer) -> str:
    assert isinstance(answer.body, list) and len(answer.body) == 1, answer.body
    return str(answer.body[0]["errorCode"])


# -- the SOQL parser ----------------------------------------------------------------------------

def test_parser_reads_the_incremental_query_connectors_send() -> None:
    query = parse("select Id, name FROM Account WHERE SystemModstamp > 2024-01-01T00:00:00Z "
                  "and IsDeleted = false order by SystemModstamp asc limit 500")
    assert [f.name for f in query.fields or ()] == ["Id", "name"]
    assert query.sobject == "Account" and query.limit == 500
    assert query.order_by is not None and not query.order_by.descending
    assert isinstance(query.where, Junction) and query.where.operator == "AND"
    since, deleted = query.where.operands
    assert isinstance(since, Comparison) and since.operator == ">"
    assert (since.value.kind, since.value.value) == ("datetime", 1_704_067_200_000)
    assert isinstance(deleted, Comparison) and deleted.value.value is False


def test_parser_handles_literals_groups_and_operators() -> None:
    query = parse("SELECT Id FROM Contact WHERE (Email LIKE '%@acme.example' OR "
                  "Title = 'O\\'Brien') AND NOT CS_Role__c IN ('Champion', 'End User') "
                  "AND LastActivityDate >= 2024-02-29 AND Id <> null "
                  "AND CreatedDate < 2024-03-01T12:00:00.250+01:00 ORDER BY CreatedDate DESC")
    assert isinstance(query.where, Junction)
    either, negated, day, not_null, created = query.where.operands
    assert isinstance(either, Junction) and either.operator == "OR"
    like, title = either.operands
    assert isinstance(like, Like) and like.pattern.value == "%@acme.example"
    assert isinstance(title, Comparison) and title.value.value == "O'Brien"
    assert isinstance(negated, Not) and isinstance(negated.operand, Membership)
    assert [v.value for v in negated.operand.values] == ["Champion", "End User"]
    assert isinstance(day, Comparison) and (day.value.kind, day.value.value) == (
        "date", "2024-02-29")
    assert isinstance(not_null, Comparison) and not_null.operator == "!="
    assert not_null.value.kind == "null"
    assert isinstance(created, Comparison) and created.value.value == 1_709_290_800_250
    assert query.order_by is not None and query.order_by.descending
    assert parse("SELECT COUNT() FROM Opportunity").fields is None


@pytest.mark.parametrize(("text", "column", "fragment"), [
    ("SELECT Id FROM Account WHERE Name = 'a' AND Type = 'b' OR Id = 'c'", 56, "'OR'"),
    ("SELECT Id, FROM Account", 12, "'FROM'"),
    ("SELECT Id Account", 11, "'Account'"),
    ("SELECT Id FROM Account WHERE Name = 'open", 37, "'''"),
    ("SELECT Id FROM Account WHERE SystemModstamp > 2024-01-01T00:00:00", 47, "time zone"),
    ("SELECT Id FROM Account WHERE SystemModstamp > 2024-02-30T00:00:00Z", 47,
     "Invalid datetime"),
    ("SELECT Id FROM Opportunity WHERE CloseDate = 2024-13-01", 46, "Invalid date"),
    ("SELECT Id FROM Account WHERE CreatedDate = TODAY", 44, "TODAY"),
    ("SELECT Id FROM Account GROUP BY Id", 24, "GROUP"),
    ("SELECT Account.Name FROM Contact", 8, "relationship"),
    ("SELECT Id FROM Account LIMIT ten", 30, "'ten'"),
    ("SELECT Id FROM Account ORDER BY Name, Id", 37, "more than one field"),
    ("SELECT Id FROM Account WHERE Name = 'a' extra", 41, "'extra'"),
    ("DELETE FROM Account", 1, "'DELETE'"),
])
def test_malformed_queries_are_refused_at_their_column(text: str, column: int, fragment: str,
                                                       ) -> None:
    with pytest.raises(SoqlError) as error:
        parse(text)
    assert error.value.code == "MALFORMED_QUERY"
    rendered = error.value.render(text)
    assert f"ERROR at Row:1:Column:{column}" in rendered and fragment in rendered
    assert rendered.splitlines()[2].index("^") == column - 1


def test_check_resolves_names_and_refuses_unknown_fields_types_and_literals() -> None:
    account_type = sobject("account")
    names = check(parse("SELECT id, WEBSITE, csp_health_score__c FROM account"), account_type)
    assert names == {"id": "Id", "WEBSITE": "Website",
                     "csp_health_score__c": "csp_health_score__c"}
    cases = [
        ("SELECT Foo FROM Account", "INVALID_FIELD", "No such column 'Foo' on entity 'Account'"),
        ("SELECT Id FROM Widget__c", "INVALID_TYPE", "sObject type 'Widget__c' is not"),
        ("SELECT Id FROM Account WHERE SystemModstamp > '2024-01-01'", "INVALID_FIELD",
         "must be of type dateTime and should not be enclosed in quotes"),
        ("SELECT Id FROM Account WHERE Name = 5", "INVALID_FIELD",
         "must be of type string and should be enclosed in quotes"),
        ("SELECT Id FROM Opportunity WHERE CloseDate > 2024-01-01T00:00:00Z", "INVALID_FIELD",
         "must be of type date"),
        ("SELECT Id, id FROM Account", "MALFORMED_QUERY", "duplicate field selected: Id"),
    ]
    for text, code, message in cases:
        query = parse(text)
        with pytest.raises(SoqlError) as error:
            check(query, sobject(query.sobject))
        assert (error.value.code, message in error.value.message) == (code, True), text


# -- records ------------------------------------------------------------------------------------

def test_accounts_carry_salesforce_fields_and_datetimes(salesforce: Caller) -> None:
    rows = records(salesforce, "SELECT Id, Name, Website, Industry, NumberOfEmployees, "
                               "BillingCountry, OwnerId, Type, Stripe_Customer_Id__c, "
                               "Workspace_Id__c, Segment__c, Renewal_Date__c, CreatedDate, "
                               "LastModifiedDate, SystemModstamp, IsDeleted FROM Account "
                               "ORDER BY Id")
    first = rows[0]
    assert first == {
        "attributes": {"type": "Account", "url": f"{DATA}/sobjects/Account/{ACCOUNT_1}"},
        "Id": ACCOUNT_1, "Name": "Acme 1", "Website": "www.acme1.example",
        "Industry": "Financial Services", "NumberOfEmployees": 51, "BillingCountry": "DE",
        "OwnerId": "0055e0000000001AAA", "Type": "Customer",
        "Stripe_Customer_Id__c": "cus_000001", "Workspace_Id__c": "ws_0001",
        "Segment__c": "mid_market", "Renewal_Date__c": "2025-01-01",
        "CreatedDate": "2024-03-01T10:00:01.000+0000",
        "LastModifiedDate": "2024-03-01T10:16:41.000+0000",
        "SystemModstamp": "2024-03-01T10:16:41.000+0000", "IsDeleted": False,
    }
    assert (rows[1]["Type"], rows[1]["Stripe_Customer_Id__c"]) == ("Former Customer", None)


def test_contacts_users_and_opportunities(salesforce: Caller) -> None:
    contact_row = records(salesforce, "SELECT AccountId, FirstName, LastName, Email, Title, "
                                      "CS_Role__c, LastActivityDate FROM Contact LIMIT 1")[0]
    assert {k: v for k, v in contact_row.items() if k != "attributes"} == {
        "AccountId": ACCOUNT_1, "FirstName": "Cleo", "LastName": "Contact1",
        "Email": "cleo1@acme1.example", "Title": "VP Operations", "CS_Role__c": "Champion",
        "LastActivityDate": "2024-03-01"}
    user = records(salesforce, "SELECT Id, Username, Email, FirstName, LastName, IsActive, "
                               "CreatedDate, SystemModstamp FROM User")[0]
    assert (user["Id"], user["Username"], user["IsActive"]) == (
        "0055e0000000001AAA", "csm1@vendor.example", True)
    assert SF_DATETIME.fullmatch(user["CreatedDate"])
    opportunities = {r["Id"]: r for r in records(
        salesforce, "SELECT Id, AccountId, Name, Amount, StageName, CloseDate, Type, IsClosed, "
                    "IsWon, OwnerId FROM Opportunity")}
    won = opportunities["0065e0000000001AAA"]
    assert (won["Amount"], won["StageName"], won["Type"], won["IsClosed"], won["IsWon"],
            won["CloseDate"]) == (12000.0, "Closed Won", "Renewal", True, True, "2024-02-01")
    open_one = opportunities["0065e0000000003AAA"]
    assert (open_one["StageName"], open_one["Type"], open_one["IsClosed"]) == (
        "Prospecting", "Upsell", False)


def test_departed_contacts_are_deleted_and_only_query_all_returns_them(salesforce: Caller,
                                                                       ) -> None:
    live = records(salesforce, "SELECT Id FROM Contact")
    assert "0035e0000000002AAA" not in {r["Id"] for r in live} and len(live) == 4
    everything = records(salesforce, "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true",
                         everything=True)
    assert everything[0]["Id"] == "0035e0000000002AAA" and everything[0]["IsDeleted"] is True
    assert records(salesforce, "SELECT Id FROM Contact WHERE IsDeleted = true") == []
    assert len(records(salesforce, "SELECT Id FROM Contact", everything=True)) == 5
    gone = salesforce("GET", f"{DATA}/sobjects/Contact/0035e0000000002AAA")
    assert (gone.status, error_code(gone)) == (404, "ENTITY_IS_DELETED")


def test_sobject_reads_return_the_record_or_the_fields_asked_for(salesforce: Caller) -> None:
    whole = salesforce("GET", f"{DATA}/sobjects/Account/{ACCOUNT_1}").body
    assert whole["attributes"]["type"] == "Account" and whole["Plan__c"] == "growth"
    some = salesforce("GET", f"{DATA}/sobjects/Account/{ACCOUNT_1}",
                      query={"fields": "name,Website"}).body
    assert list(some) == ["attributes", "Name", "Website"]
    assert error_code(salesforce("GET", f"{DATA}/sobjects/Account/{ACCOUNT_1}",
                                 query={"fields": "Nope"})) == "INVALID_FIELD"
    missing = salesforce("GET", f"{DATA}/sobjects/Account/0015e0000000099AAA")
    assert (missing.status, error_code(missing)) == (404, "NOT_FOUND")


# -- queries ------------------------------------------------------------------------------------

def test_incremental_filters_return_only_changed_records_in_order(salesforce: Caller) -> None:
    rows = records(salesforce, "SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp > "
                               "2024-03-01T10:16:42Z ORDER BY SystemModstamp ASC")
    assert [r["Id"][-4:-3] for r in rows] == ["3", "4", "5"]
    stamps = [r["SystemModstamp"] for r in rows]
    assert stamps == sorted(stamps)
    exact = "2024-03-01T10:16:43.000Z"
    counts = {op: soql(salesforce, f"SELECT COUNT() FROM Account WHERE SystemModstamp {op} "
                                   f"{exact}").body["totalSize"]
              for op in ("=", ">", ">=", "<", "<=")}
    assert counts == {"=": 1, ">": 2, ">=": 3, "<": 2, "<=": 3}
    offset = soql(salesforce, "SELECT COUNT() FROM Account WHERE SystemModstamp >= "
                              "2024-03-01T11:16:43+01:00").body["totalSize"]
    assert offset == 3
    modified = records(salesforce, "SELECT Id FROM Account WHERE LastModifiedDate > "
                                   "2024-03-01T10:16:44Z")
    assert len(modified) == 1


def test_other_conditions_are_checked_per_record(salesforce: Caller) -> None:
    won = records(salesforce, "SELECT Id FROM Opportunity WHERE StageName = 'closed won' "
                              "AND (Amount >= 12000 OR Type = 'Upsell')")
    assert len(won) == 4
    chosen = records(salesforce, f"SELECT Id FROM Account WHERE Id IN ('{ACCOUNT_1}', "
                                 f"'0015e0000000004AAA') ORDER BY Id DESC")
    assert [r["Id"] for r in chosen] == ["0015e0000000004AAA", ACCOUNT_1]
    liked = records(salesforce, "SELECT Id FROM Contact WHERE Email LIKE 'CLEO1_@%'")
    assert liked == []
    assert len(records(salesforce, "SELECT Id FROM Contact WHERE Email LIKE 'cleo_@%'")) == 4
    nulls = records(salesforce, "SELECT Id FROM Account WHERE Stripe_Customer_Id__c = null")
    assert [r["Id"] for r in nulls] == ["0015e0000000002AAA"]
    assert soql(salesforce, "SELECT COUNT() FROM Account WHERE NOT Type = 'Customer'").body[
        "totalSize"] == 1


def test_query_errors_use_salesforces_error_list(salesforce: Caller) -> None:
    unknown = soql(salesforce, "SELECT Bogus FROM Account")
    assert (unknown.status, error_code(unknown)) == (400, "INVALID_FIELD")
    assert "ERROR at Row:1:Column:8" in unknown.body[0]["message"]
    assert error_code(soql(salesforce, "SELECT Id FROM")) == "MALFORMED_QUERY"
    assert error_code(soql(salesforce, "SELECT Id FROM Lead")) == "INVALID_TYPE"
    assert error_code(soql(salesforce, "SELECT Id FROM Account ORDER BY Name")) == (
        "MALFORMED_QUERY")
    assert error_code(salesforce("GET", f"{DATA}/query")) == "MALFORMED_QUERY"


def test_batches_walk_every_record_exactly_once_through_locators(tmp_path: Path) -> None:
    world = write_world(tmp_path / "big.sqlite", accounts=30, contacts_per_account=15)
    with SandboxServer(world) as server:
        salesforce = Caller(server, "salesforce", TOKEN)
        first = soql(salesforce, "SELECT Id FROM Contact ORDER BY SystemModstamp", batch=200)
        assert (first.body["totalSize"], first.body["done"], len(first.body["records"])) == (
            450, False, 200)
        locator = first.body["nextRecordsUrl"]
        assert re.fullmatch(rf"{DATA}/query/01g[0-9A-Za-z]{{15}}-200", locator)
        # A contact not yet served is modified mid-walk: it moves to the end of the
        # SystemModstamp order and must still be served, once.
        writer = WorldWriter(world)
        writer.put(CONTACT, contact(300, 20, updated_at=T0 + 9000))
        writer.close()
        seen = [r["Id"] for r in first.body["records"]]
        body = first.body
        while not body["done"]:
            retry = salesforce("GET", body["nextRecordsUrl"]).body
            body = salesforce("GET", body["nextRecordsUrl"]).body
            assert retry == body  # the same locator serves the same batch again
            seen += [r["Id"] for r in body["records"]]
        assert len(set(seen)) == 450 and len(seen) == 450
        assert seen[-1] == "0035e0000000300AAA"
        assert body["totalSize"] == 450 and "nextRecordsUrl" not in body
        default = soql(salesforce, "SELECT Id FROM Contact").body
        assert default["done"] and len(default["records"]) == 450
        limited = soql(salesforce, "SELECT Id FROM Contact LIMIT 250", batch=200).body
        rest = salesforce("GET", limited["nextRecordsUrl"]).body
        assert (limited["totalSize"], len(rest["records"]), rest["done"]) == (250, 50, True)
        bogus = salesforce("GET", f"{DATA}/query/01gAAAAAAAAAAAAAAA-200")
        assert (bogus.status, error_code(bogus)) == (400, "INVALID_QUERY_LOCATOR")
        unserved = salesforce("GET", locator.replace("-200", "-300"))
        assert error_code(unserved) == "INVALID_QUERY_LOCATOR"


# -- writes -------------------------------------------------------------------------------------

def upsert_task(salesforce: Caller, key: str, **fields: Any) -> Answer:
    return salesforce("PATCH", f"{DATA}/sobjects/Task/CSP_Task_Key__c/{key}",
                      body={"Subject": "Renewal prep", "WhatId": ACCOUNT_1, **fields})


def test_task_upsert_by_external_id_is_idempotent(salesforce: Caller) -> None:
    created = upsert_task(salesforce, "acct-1%3Arenewal", ActivityDate="2024-04-01")
    assert created.status == 201
    assert created.body == {"id": created.body["id"], "success": True, "errors": [],
                            "created": True}
    again = upsert_task(salesforce, "acct-1%3Arenewal", Status="Completed")
    assert again.status == 200 and again.body["created"] is False
    assert again.body["id"] == created.body["id"]
    tasks = records(salesforce, "SELECT Id, Subject, Status, IsClosed, ActivityDate, OwnerId, "
                                "CSP_Task_Key__c FROM Task")
    assert [(t["CSP_Task_Key__c"], t["Status"], t["IsClosed"], t["ActivityDate"])
            for t in tasks] == [("acct-1:renewal", "Completed", True, "2024-04-01")]
    assert len(created.body["id"]) == 18 and created.body["id"].startswith("00T")
    pushed = salesforce.server.world.pushed("salesforce", "Task")
    assert [(p["key"], p["body"]["created"]) for p in pushed] == [
        ("acct-1:renewal", True), ("acct-1:renewal", False)]


def test_writes_are_validated_like_salesforce(salesforce: Caller) -> None:
    cases = [
        (upsert_task(salesforce, "k", Bogus="x"), 400, "INVALID_FIELD"),
        (upsert_task(salesforce, "k", IsClosed=True), 400, "INVALID_FIELD_FOR_INSERT_UPDATE"),
        (upsert_task(salesforce, "k", WhatId="0015e0000000099AAA"), 400,
         "INVALID_CROSS_REFERENCE_KEY"),
        (upsert_task(salesforce, "k", ActivityDate="01/04/2024"), 400, "JSON_PARSER_ERROR"),
        (salesforce("PATCH", f"{DATA}/sobjects/Task/Subject/x", body={}), 404, "NOT_FOUND"),
        (salesforce("PATCH", f"{DATA}/sobjects/Contact/0035e0000000001AAA", body={}), 403,
         "INSUFFICIENT_ACCESS_OR_READONLY"),
    ]
    for answer, status, code in cases:
        assert (answer.status, error_code(answer)) == (status, code), answer.body
    assert records(salesforce, "SELECT Id FROM Task") == []


def test_account_update_answers_204_and_moves_the_modstamp(salesforce: Caller) -> None:
    answer = salesforce("PATCH", f"{DATA}/sobjects/Account/{ACCOUNT_1}",
                        body={"CSP_Health_Score__c": 58.5, "CSP_Health_Band__c": "critical"})
    assert (answer.status, answer.body) == (204, None)
    changed = records(salesforce, "SELECT Id, CSP_Health_Score__c, CSP_Health_Band__c FROM "
                                  "Account WHERE SystemModstamp > 2024-03-01T10:16:45Z")
    assert [(r["Id"], r["CSP_Health_Score__c"], r["CSP_Health_Band__c"]) for r in changed] == [
        (ACCOUNT_1, 58.5, "critical")]
    missing = salesforce("PATCH", f"{DATA}/sobjects/Account/0015e0000000099AAA", body={})
    assert (missing.status, error_code(missing)) == (404, "NOT_FOUND")
    assert salesforce.server.world.pushed("salesforce", "Account")[0]["key"] == ACCOUNT_1


def test_generator_updates_keep_connector_fields(world: Path) -> None:
    with SandboxServer(world) as server:
        Caller(server, "salesforce", TOKEN)("PATCH", f"{DATA}/sobjects/Account/{ACCOUNT_1}",
                                            body={"CSP_Health_Score__c": 71})
    writer = WorldWriter(world)
    writer.put(ACCOUNT, account(1, name="Acme One", updated_at=T0 + 5000))
    writer.close()
    stored = WorldReader(world).get("salesforce", "Account", ACCOUNT_1)
    assert stored is not None
    assert (stored["Name"], stored["CSP_Health_Score__c"]) == ("Acme One", 71)


def test_composite_collections_upsert_and_roll_back_all_or_none(salesforce: Caller) -> None:
    path = f"{DATA}/composite/sobjects/Task/CSP_Task_Key__c"

    def task(key: str, **fields: Any) -> dict[str, Any]:
        return {"attributes": {"type": "Task"}, "CSP_Task_Key__c": key, "Subject": key,
                **fields}

    rolled = salesforce("PATCH", path, body={"allOrNone": True,
                                             "records": [task("a"), task("b", Nope=1)]}).body
    assert rolled[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert rolled[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert records(salesforce, "SELECT Id FROM Task") == []
    partial = salesforce("PATCH", path, body={"records": [task("a"), task("b", Nope=1)]}).body
    assert [r["success"] for r in partial] == [True, False] and partial[0]["created"] is True
    again = salesforce("PATCH", path, body={"records": [task("a", Status="Completed")]}).body
    assert again[0]["created"] is False and again[0]["id"] == partial[0]["id"]
    created = salesforce("POST", f"{DATA}/composite/sobjects",
                         body={"records": [task("c")]}).body
    assert created[0]["success"] is True
    updated = salesforce("PATCH", f"{DATA}/composite/sobjects", body={"records": [
        {"attributes": {"type": "Account"}, "Id": ACCOUNT_1, "CSP_Health_Band__c": "healthy"}]})
    assert updated.body == [{"id": ACCOUNT_1, "success": True, "errors": []}]
    too_many = salesforce("PATCH", path, body={"records": [task(f"k{n}") for n in range(201)]})
    assert too_many.status == 400
    assert len(records(salesforce, "SELECT Id FROM Task")) == 2


# -- wire format over HTTP ----------------------------------------------------------------------

def test_oauth_token_then_queries_on_the_instance_url(world: Path) -> None:
    with SandboxServer(world) as server:
        token_url = server.url("salesforce") + "/services/oauth2/token"
        granted = requests.post(token_url, timeout=10, data={
            "grant_type": "client_credentials",
            "client_id": DEFAULT_SECRETS["salesforce_client_id"],
            "client_secret": DEFAULT_SECRETS["salesforce_client_secret"]}).json()
        assert granted["instance_url"] == server.url("salesforce")
        assert granted["token_type"] == "Bearer" and granted["issued_at"].isdigit()
        assert granted["signature"] and granted["id"].startswith("https://login.salesforce.com")
        answer = requests.get(granted["instance_url"] + f"{DATA}/query", timeout=10,
                              params={"q": "SELECT Id FROM Account"},
                              headers={"Authorization": f"Bearer {granted['access_token']}"})
        assert answer.status_code == 200 and answer.json()["totalSize"] == 5
        wrong = requests.post(token_url, timeout=10, data={
            "grant_type": "client_credentials",
            "client_id": DEFAULT_SECRETS["salesforce_client_id"], "client_secret": "guess"})
        assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_client")
        assert DEFAULT_SECRETS["salesforce_client_secret"] not in wrong.text
        password = requests.post(token_url, timeout=10, data={
            "grant_type": "password", "client_id": DEFAULT_SECRETS["salesforce_client_id"],
            "client_secret": DEFAULT_SECRETS["salesforce_client_secret"],
            "username": "integration@csp.example", "password": "pw"})
        assert password.status_code == 200
        unsupported = requests.post(token_url, timeout=10, data={"grant_type": "magic"})
        assert unsupported.json()["error"] == "unsupported_grant_type"


def test_auth_failures_answer_invalid_session_id(world: Path) -> None:
    with SandboxServer(world) as server:
        url = server.url("salesforce") + f"{DATA}/query"
        for headers in ({}, {"Authorization": "Bearer 00Dwrong"}):
            answer = requests.get(url, params={"q": "SELECT Id FROM Account"}, headers=headers,
                                  timeout=10)
            assert answer.status_code == 401
            assert answer.json() == [{"message": "Session expired or invalid",
                                      "errorCode": "INVALID_SESSION_ID"}]


def test_api_usage_is_reported_and_enforced(world: Path) -> None:
    with SandboxServer(world, rate_limits={"salesforce": RateLimit(3, 86400.0)}) as server:
        url = server.url("salesforce") + f"{DATA}/sobjects/Account/{ACCOUNT_1}"
        headers = {"Authorization": f"Bearer {TOKEN}"}
        usage = [requests.get(url, headers=headers, timeout=10).headers["Sforce-Limit-Info"]
                 for _ in range(3)]
        assert usage == ["api-usage=1/3", "api-usage=2/3", "api-usage=3/3"]
        over = requests.get(url, headers=headers, timeout=10)
        assert over.status_code == 403
        assert over.json() == [{"message": "TotalRequests Limit exceeded.",
                                "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


# -- the generated company ----------------------------------------------------------------------

def test_generated_world_queries_walk_every_record_once(sandbox: SandboxServer) -> None:
    salesforce = Caller(sandbox, "salesforce", TOKEN)
    world = sandbox.world
    for sobject_name, everything in (("Contact", False), ("Contact", True), ("Account", False),
                                     ("Opportunity", False)):
        body = soql(salesforce, f"SELECT Id, SystemModstamp FROM {sobject_name} "
                                f"ORDER BY SystemModstamp", everything=everything,
                    batch=200).body
        seen = [r["Id"] for r in body["records"]]
        while not body["done"]:
            body = salesforce("GET", body["nextRecordsUrl"]).body
            seen += [r["Id"] for r in body["records"]]
        expected = world.count("salesforce", sobject_name, include_deleted=everything)
        assert len(seen) == len(set(seen)) == body["totalSize"] == expected, sobject_name
    deleted = soql(salesforce, "SELECT COUNT() FROM Contact WHERE IsDeleted = true",
                   everything=True).body["totalSize"]
    assert deleted == world.count("salesforce", "Contact") - world.count(
        "salesforce", "Contact", include_deleted=False)


# -- ids, fixtures, records ------------------------------------------------------------------------

def test_ids_are_18_characters_with_salesforces_checksum() -> None:
    assert checksum("001D000000IqhSL") == "IAZ"       # the example in Salesforce's docs
    generated = salesforce_id("00T", 123_456)
    assert len(generated) == 18 and generated[:15].startswith("00T")
    assert generated[15:] == checksum(generated[:15])


def test_exported_world_reloads_identically(world: Path, tmp_path: Path) -> None:
    with SandboxServer(world) as server:
        upsert_task(Caller(server, "salesforce", TOKEN), "exported")
    export_world(world, tmp_path / "export")
    replay = tmp_path / "replay.sqlite"
    load_fixture_dir(tmp_path / "export", replay)
    original, copy = WorldReader(world), WorldReader(replay)
    kinds = [kind for vendor, kind in original.object_kinds() if vendor == "salesforce"]
    assert {"Account", "Contact", "Opportunity", "Task", "User"} <= set(kinds)
    for kind in kinds:
        assert list(copy.iter_objects("salesforce", kind)) == list(
            original.iter_objects("salesforce", kind)), kind
    with SandboxServer(replay) as server:
        answer = soql(Caller(server, "salesforce", TOKEN),
                      "SELECT Id FROM Contact", everything=True)
    assert answer.body["totalSize"] == 5


def test_fixture_records_load_with_attributes_and_need_their_timestamps(tmp_path: Path) -> None:
    writer = WorldWriter(tmp_path / "w.sqlite")
    vendor = Salesforce({})
    vendor.load_fixture("Account", {
        "attributes": {"type": "Account", "url": "/x"}, "Id": ACCOUNT_1, "Name": "Real Co",
        "CreatedDate": "2023-05-01T08:00:00.000+0000",
        "SystemModstamp": "2024-05-01T08:00:00.000+0000"}, writer.sink)
    with pytest.raises(ValueError, match="SystemModstamp"):
        vendor.load_fixture("Contact", {"Id": "0035e0000000001AAA",
                                        "CreatedDate": "2023-05-01T08:00:00.000+0000"},
                            writer.sink)
    with pytest.raises(ValueError, match="Lead"):
        vendor.load_fixture("Lead", {}, writer.sink)
    writer.close()
    assert WorldReader(tmp_path / "w.sqlite").get("salesforce", "Account", ACCOUNT_1) == {
        "Id": ACCOUNT_1, "Name": "Real Co", "CreatedDate": "2023-05-01T08:00:00.000+0000",
        "SystemModstamp": "2024-05-01T08:00:00.000+0000"}


def test_records_are_the_records_of_query_and_read_responses() -> None:
    vendor = Salesforce(DEFAULT_SECRETS)
    page = {"totalSize": 1, "done": True, "records": [{"attributes": {}, "Id": "1"}]}
    assert vendor.records(page) == page["records"]
    single = {"attributes": {"type": "Account"}, "Id": "1"}
    assert vendor.records(single) == [single]
    assert vendor.records([{"errorCode": "X"}]) == []
