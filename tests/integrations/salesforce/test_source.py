"""The Salesforce source against the sandbox over HTTP, into real DuckDB and PostgreSQL.

Each test runs the real connector (`salesforce_source` + `WarehouseLoader`) against a
private copy of the small company: OAuth token, SOQL `queryAll` batches of 200 (so
`nextRecordsUrl` paging is exercised), merge on `Id`.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from csp.settings import Secret, VendorConfig, load_settings
from csp.warehouse import Warehouse
from integrations.contracts import SchemaDriftError
from integrations.http import RetryPolicy, VendorRequestError, VendorSession, create_session
from integrations.loader import LoadReport, WarehouseLoader
from integrations.salesforce import SalesforceClient, salesforce_session, salesforce_source
from integrations.salesforce.client import soql_changed_since, soql_datetime
from integrations.salesforce.settings import ACCOUNT
from integrations.sandbox.faults import Fault
from integrations.sandbox.routing import RateLimit
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.simulation import step
from integrations.sandbox.store import WorldReader
from tests.integrations.echo_vendor import make_warehouse, query
from tests.integrations.raw_tables import scalar, table_rows

OBJECTS = {"accounts": "Account", "contacts": "Contact", "opportunities": "Opportunity",
           "users": "User"}
BATCH = 200
FAST_RETRY = RetryPolicy(backoff_initial=0.05, backoff_max=0.2)


# -- helpers --------------------------------------------------------------------------------

def config_for(sandbox: SandboxServer, **env: str) -> VendorConfig:
    return load_settings({"CSP_SOURCES": "salesforce",
                          "CSP_SALESFORCE_BASE_URL": sandbox.url("salesforce"), **env}
                         ).vendors["salesforce"]


def load(warehouse: Warehouse, config: VendorConfig, *, session: VendorSession | None = None,
         client: SalesforceClient | None = None) -> LoadReport:
    session = client.session if client else (session or salesforce_session(config))
    source = salesforce_source(config, session=session, client=client, batch_size=BATCH)
    return WarehouseLoader(warehouse).load(source, http_stats=session.stats.snapshot)


def counts(sandbox: SandboxServer) -> Counter[str]:
    return Counter({name.removeprefix("salesforce "): n
                    for name, n in sandbox.request_counts("salesforce").items()})


def world_count(world: Path, sobject: str, *, live_only: bool = False) -> int:
    return WorldReader(world).count("salesforce", sobject, include_deleted=not live_only)








def rotate_token(sandbox: SandboxServer, token: str) -> None:
    """Expire the org's session: the old token gets 401, the token endpoint issues `token`."""
    vendor = sandbox.vendors["salesforce"]
    vendor.secrets = {**vendor.secrets, "salesforce_access_token": token}


@pytest.fixture
def duckdb_warehouse(duckdb_path: Path) -> Warehouse:
    return Warehouse("duckdb", duckdb_path)


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, duckdb_path: Path) -> Warehouse:
    return make_warehouse(request.param, duckdb_path, request)


# -- SOQL -----------------------------------------------------------------------------------

def test_soql_reads_changes_at_or_after_the_cursor_in_utc() -> None:
    soql = soql_changed_since(ACCOUNT, "2026-05-01T12:30:00.250+0200")

    assert soql.endswith("FROM Account WHERE SystemModstamp >= 2026-05-01T10:30:00.250Z "
                         "ORDER BY SystemModstamp ASC")
    assert "Stripe_Customer_Id__c" in soql and "IsDeleted" in soql
    assert soql_datetime("1970-01-01T00:00:00.000+0000") == "1970-01-01T00:00:00.000Z"


# -- (1) full load --------------------------------------------------------------------------

def test_full_load_lands_every_record_deleted_ones_flagged(
        sandbox: SandboxServer, world_copy: Path, duckdb_warehouse: Warehouse) -> None:
    report = load(duckdb_warehouse, config_for(sandbox))

    for table, sobject in OBJECTS.items():
        assert scalar(duckdb_warehouse, f"select count(*) from raw_salesforce.{table}") \
            == world_count(world_copy, sobject) == report.table(table).loaded, table
    deleted = world_count(world_copy, "Contact") - world_count(world_copy, "Contact",
                                                               live_only=True)
    assert deleted > 0
    assert scalar(duckdb_warehouse, "select count(*) from raw_salesforce.contacts "
                                    "where is_deleted") == deleted
    # The identity keys, exactly as the CRM holds them (null where the CRM has none).
    expected = {(body["Id"], body["Website"], body["Stripe_Customer_Id__c"],
                 body["Workspace_Id__c"])
                for body in WorldReader(world_copy).iter_objects("salesforce", "Account")}
    landed = set(query(duckdb_warehouse, "select id, website, stripe_customer_id__c, "
                                         "workspace_id__c from raw_salesforce.accounts"))
    assert landed == expected
    assert any(key is None for _, _, key, _ in landed)
    # One token; one queryAll per object, then nextRecordsUrl per further batch of 200.
    pages = {sobject: math.ceil(world_count(world_copy, sobject) / BATCH)
             for sobject in OBJECTS.values()}
    assert counts(sandbox) == Counter({"oauth.token": 1, "query_all": 4,
                                       "query.more": sum(pages.values()) - 4})


def test_a_null_only_field_still_gets_its_typed_column(sandbox: SandboxServer,
                                                       duckdb_warehouse: Warehouse) -> None:
    sandbox.faults.add(Fault("salesforce", "drift_add", route="query*",
                             field="Stripe_Customer_Id__c", value=None))

    load(duckdb_warehouse, config_for(sandbox))

    assert query(duckdb_warehouse, (
        "select data_type from information_schema.columns where table_schema = "
        "'raw_salesforce' and table_name = 'accounts' and column_name = "
        "'stripe_customer_id__c'")) == [("VARCHAR",)]
    assert scalar(duckdb_warehouse, "select count(stripe_customer_id__c) from "
                                    "raw_salesforce.accounts") == 0


# -- (2) and (3) incremental ----------------------------------------------------------------

def test_rerun_without_change_loads_nothing_and_asks_once_per_object(
        sandbox: SandboxServer, warehouse: Warehouse) -> None:
    config = config_for(sandbox)
    load(warehouse, config)
    sandbox.reset_counts()

    report = load(warehouse, config)

    assert report.loaded == 0 and report.extracted == 0
    assert counts(sandbox) == Counter({"oauth.token": 1, "query_all": 4})


def test_after_a_day_only_changes_are_fetched_and_raw_equals_a_fresh_load(
        sandbox: SandboxServer, world_copy: Path, postgres_dsn: str, duckdb_path: Path,
        tmp_path: Path) -> None:
    warehouse = Warehouse("postgres", duckdb_path, Secret(postgres_dsn))
    config = config_for(sandbox)
    load(warehouse, config)
    reader = WorldReader(world_copy)
    before = {sobject: max(row[0] for row in reader.scan("salesforce", sobject, limit=100_000))
              for sobject in OBJECTS.values()}
    step(world_copy.parent, 1)
    changed = {table: reader.count("salesforce", sobject, since=before[sobject] + 0.0005)
               for table, sobject in OBJECTS.items()}
    assert changed["accounts"] > 0 and changed["contacts"] > 0
    sandbox.reset_counts()

    report = load(warehouse, config)

    for table, n in changed.items():
        assert report.table(table).extracted == n, table
    assert counts(sandbox) == Counter({"oauth.token": 1, "query_all": 4})
    fresh = Warehouse("duckdb", tmp_path / "fresh.duckdb")
    load(fresh, config)
    for table in OBJECTS:
        assert (table_rows(warehouse, "raw_salesforce", table)
                == table_rows(fresh, "raw_salesforce", table)), table


# -- auth -----------------------------------------------------------------------------------

def test_an_expired_session_is_renewed_once_mid_run(
        sandbox: SandboxServer, world_copy: Path, duckdb_warehouse: Warehouse) -> None:
    config = config_for(sandbox)
    client = SalesforceClient(salesforce_session(config), config)
    rotated: list[str] = []

    def expire_after_first_batch(response: requests.Response, *args: Any,
                                 **kwargs: Any) -> None:
        if "/queryAll" in response.url and not rotated:
            rotated.append("done")
            rotate_token(sandbox, "00DSANDBOX!renewed-session-token")

    client.session.hooks["response"].append(expire_after_first_batch)

    report = load(duckdb_warehouse, config, client=client)

    assert client.authentications == 2
    assert counts(sandbox)["oauth.token"] == 2
    assert sandbox.status_counts("salesforce")[401] == 1
    for table, sobject in OBJECTS.items():
        assert report.table(table).loaded == world_count(world_copy, sobject)


def test_a_session_rejected_after_renewal_is_an_error_not_a_loop(
        sandbox: SandboxServer, duckdb_warehouse: Warehouse) -> None:
    config = config_for(sandbox)
    client = SalesforceClient(salesforce_session(config), config)
    issued = iter(range(1000))

    def revoke_each_new_token(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.url.endswith("/services/oauth2/token"):
            rotate_token(sandbox, f"00DSANDBOX!revoked-{next(issued)}")

    client.session.hooks["response"].append(revoke_each_new_token)

    with pytest.raises(VendorRequestError) as raised:
        load(duckdb_warehouse, config, client=client)

    assert str(raised.value) == ("salesforce: GET /salesforce/services/data/v59.0/queryAll "
                                 "answered HTTP 401 INVALID_SESSION_ID")
    assert client.authentications == 2


def test_wrong_client_secret_is_one_line_naming_the_source_without_the_secret(
        sandbox: SandboxServer, duckdb_warehouse: Warehouse) -> None:
    secret = "wrong-connected-app-secret-0123456789"
    config = config_for(sandbox, CSP_SALESFORCE_CLIENT_SECRET=secret)

    with pytest.raises(VendorRequestError) as raised:
        load(duckdb_warehouse, config)

    message = str(raised.value)
    assert message == ("salesforce: POST /salesforce/services/oauth2/token answered HTTP 400 "
                       "OAuth invalid_client")
    assert secret not in message and "\n" not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_building_the_source_touches_no_network(sandbox: SandboxServer) -> None:
    salesforce_source(config_for(sandbox))

    assert counts(sandbox) == Counter()


# -- (4) limits and server errors -----------------------------------------------------------

def test_5xx_bursts_and_a_dropped_batch_are_survived_under_the_limit(
        world_copy: Path, duckdb_warehouse: Warehouse) -> None:
    with SandboxServer(world_copy, rate_limits={"salesforce": RateLimit(6, 1.0)}) as sandbox:
        config = config_for(sandbox, CSP_SALESFORCE_RATE_LIMIT="5/1")
        for fault in (Fault("salesforce", "http_error", route="query_all", count=3, status=503),
                      Fault("salesforce", "http_error", route="query.more", count=2,
                            status=500),
                      Fault("salesforce", "drop", route="query.more", count=1),
                      Fault("salesforce", "http_error", route="oauth.token", count=1,
                            status=502)):
            sandbox.faults.add(fault)
        session = create_session("salesforce", rate_limit=config.rate_limit, retry=FAST_RETRY)

        report = load(duckdb_warehouse, config, session=session)

        assert sandbox.limiter.rejected == 0
        assert not sandbox.faults.active()
    for table, sobject in OBJECTS.items():
        assert report.table(table).loaded == world_count(world_copy, sobject)
    assert report.http["retries"] == 7


def test_exhausted_daily_allowance_fails_at_once_with_its_code(
        sandbox: SandboxServer, duckdb_warehouse: Warehouse) -> None:
    sandbox.faults.add(Fault("salesforce", "rate_limit", route="query_all"))

    with pytest.raises(VendorRequestError) as raised:
        load(duckdb_warehouse, config_for(sandbox))

    assert str(raised.value) == ("salesforce: GET /salesforce/services/data/v59.0/queryAll "
                                 "answered HTTP 403 REQUEST_LIMIT_EXCEEDED")
    assert counts(sandbox)["query_all"] == 1


# -- (5) drift and malformed pages ----------------------------------------------------------

def test_renamed_identity_field_fails_with_exact_message(sandbox: SandboxServer,
                                                         duckdb_warehouse: Warehouse) -> None:
    sandbox.faults.add(Fault("salesforce", "drift_rename", route="query*",
                             field="Stripe_Customer_Id__c", to="Stripe_Id__c"))

    with pytest.raises(SchemaDriftError) as raised:
        load(duckdb_warehouse, config_for(sandbox))

    assert str(raised.value) == (
        "salesforce.accounts: field 'Stripe_Customer_Id__c' missing from every record of the "
        "page (renamed or removed upstream?)")
    assert WarehouseLoader(duckdb_warehouse).stored_state("salesforce") == {}


def test_retyped_amount_fails_naming_it(sandbox: SandboxServer,
                                        duckdb_warehouse: Warehouse) -> None:
    sandbox.faults.add(Fault("salesforce", "drift_type", route="query*", field="Amount"))

    with pytest.raises(SchemaDriftError) as raised:
        load(duckdb_warehouse, config_for(sandbox))

    assert str(raised.value) == (
        "salesforce.opportunities: field 'Amount' changed type from number or null to string "
        "in every record of the page")


def test_new_field_becomes_a_reported_column(sandbox: SandboxServer, world_copy: Path,
                                             duckdb_warehouse: Warehouse) -> None:
    config = config_for(sandbox)
    load(duckdb_warehouse, config)
    step(world_copy.parent, 1)
    sandbox.faults.add(Fault("salesforce", "drift_add", route="query*",
                             field="Health_Tier__c", value="gold"))

    report = load(duckdb_warehouse, config)

    assert report.table("accounts").new_columns == ("health_tier__c",)
    assert scalar(duckdb_warehouse, "select count(*) from raw_salesforce.accounts "
                                    "where health_tier__c = 'gold'") \
        == report.table("accounts").extracted > 0


def test_malformed_batch_is_retried_and_the_load_completes(
        sandbox: SandboxServer, world_copy: Path, duckdb_warehouse: Warehouse) -> None:
    sandbox.faults.add(Fault("salesforce", "malformed", route="query.more", count=1))
    sandbox.faults.add(Fault("salesforce", "malformed", route="query_all", count=1))
    config = config_for(sandbox)
    session = create_session("salesforce", rate_limit=config.rate_limit, retry=FAST_RETRY)

    report = load(duckdb_warehouse, config, session=session)

    for table, sobject in OBJECTS.items():
        assert report.table(table).loaded == world_count(world_copy, sobject)
    assert report.http["retry_reasons"] == {"invalid JSON body": 2}
