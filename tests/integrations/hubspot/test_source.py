"""The HubSpot source against the sandbox over HTTP, into real DuckDB and PostgreSQL.

Each test runs the real connector (`hubspot_source` + `WarehouseLoader`) against a private
copy of the small company; what the sandbox served is counted per route, and what landed is
compared with the world's own store.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from csp.settings import Secret, VendorConfig, load_settings
from csp.warehouse import Warehouse
from integrations.contracts import SchemaDriftError
from integrations.http import RetryPolicy, VendorRequestError, VendorSession, create_session
from integrations.hubspot import hubspot_session, hubspot_source, settings
from integrations.loader import LoadReport, WarehouseLoader
from integrations.sandbox.domain import CONTACT
from integrations.sandbox.faults import Fault
from integrations.sandbox.routing import RateLimit
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.simulation import step
from integrations.sandbox.store import WorldReader, WorldWriter
from tests.integrations.echo_vendor import make_warehouse, query
from tests.integrations.raw_tables import scalar, table_rows
from tests.integrations.sandbox.crm_support import T0, contact, write_world

DATA_TABLES = ("companies", "contacts", "deals", "owners", "company_contacts",
               "company_deals")
FAST_RETRY = RetryPolicy(backoff_initial=0.05, backoff_max=0.2)


# -- helpers --------------------------------------------------------------------------------

def config_for(sandbox: SandboxServer, **env: str) -> VendorConfig:
    return load_settings({"CSP_HUBSPOT_BASE_URL": sandbox.url("hubspot"), **env}
                         ).vendors["hubspot"]


def load(warehouse: Warehouse, config: VendorConfig, *, session: VendorSession | None = None,
         **tuning: Any) -> LoadReport:
    session = session or hubspot_session(config)
    return WarehouseLoader(warehouse).load(hubspot_source(config, session=session, **tuning),
                                           http_stats=session.stats.snapshot)


def counts(sandbox: SandboxServer) -> Counter[str]:
    """Requests per route since the last reset, without the vendor prefix."""
    return Counter({name.removeprefix("hubspot "): n
                    for name, n in sandbox.request_counts("hubspot").items()})


def world_count(world: Path, kind: str, *, deleted: bool | None = None) -> int:
    reader = WorldReader(world)
    total = reader.count("hubspot", kind)
    if deleted is None:
        return total
    live = reader.count("hubspot", kind, include_deleted=False)
    return total - live if deleted else live


def world_associations(world: Path, to_type: str) -> set[tuple[str, str, bool]]:
    """(company id, object id, archived) of every company link of `to_type` in the world."""
    rows = WorldReader(world).conn.execute(
        "select json_extract(body, '$.toObjectId'), json_extract(body, '$.fromObjectId'), "
        "deleted from objects where vendor = 'hubspot' and kind = 'associations' "
        "and json_extract(body, '$.fromObjectType') = ? "
        "and json_extract(body, '$.toObjectType') = 'companies'", (to_type,)).fetchall()
    return {(str(company), str(other), bool(deleted)) for company, other, deleted in rows}








@pytest.fixture
def duckdb_warehouse(duckdb_path: Path) -> Warehouse:
    return Warehouse("duckdb", duckdb_path)


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, duckdb_path: Path) -> Warehouse:
    return make_warehouse(request.param, duckdb_path, request)


# -- (1) full load --------------------------------------------------------------------------

def test_full_load_lands_every_record_with_identity_keys(
        sandbox: SandboxServer, world_copy: Path, duckdb_warehouse: Warehouse) -> None:
    report = load(duckdb_warehouse, config_for(sandbox))

    for table, kind in (("companies", "companies"), ("contacts", "contacts"),
                        ("deals", "deals"), ("owners", "owners")):
        assert scalar(duckdb_warehouse, f"select count(*) from raw_hubspot.{table}") \
            == world_count(world_copy, kind), table
        assert report.table(table).loaded == world_count(world_copy, kind)
    # Archived contacts are kept and marked, not dropped.
    assert scalar(duckdb_warehouse, "select count(*) from raw_hubspot.contacts where archived") \
        == world_count(world_copy, "contacts", deleted=True) > 0
    # The cross-system keys, exactly as the CRM holds them.
    reader = WorldReader(world_copy)
    expected = {(body["id"], body["properties"]["domain"],
                 body["properties"]["csp_stripe_customer_id"],
                 body["properties"]["csp_workspace_id"])
                for body in reader.iter_objects("hubspot", "companies")}
    landed = set(query(duckdb_warehouse, (
        "select id, properties__domain, properties__csp_stripe_customer_id, "
        "properties__csp_workspace_id from raw_hubspot.companies")))
    assert landed == expected
    assert any(key is None for _, _, key, _ in landed), "a company without a Stripe id"
    # Associations: every company link of every contact and deal, archived with the contact.
    for table, to_type in (("company_contacts", "contacts"), ("company_deals", "deals")):
        rows = set(query(duckdb_warehouse,
                         f"select from_id, to_id, archived from raw_hubspot.{table}"))
        assert rows == world_associations(world_copy, to_type), table
    assert scalar(duckdb_warehouse, "select count(*) from raw_hubspot.company_contacts "
                                    "where not is_primary") == 0
    # Batched: one search per page, one association read per page of contacts or deals.
    served = counts(sandbox)
    assert served["contacts.search"] == 3 and served["companies.search"] == 1
    assert served["associations.batch_read"] == served["contacts.search"] \
        + served["deals.search"]
    assert served["contacts.list"] == served["companies.list"] == served["deals.list"] == 1
    assert served["owners.list"] == 2
    assert report.quarantined == 0


def test_declared_schema_merges_keeps_newest_and_replaces_associations(
        sandbox: SandboxServer) -> None:
    source = hubspot_source(config_for(sandbox))
    tables = source.schema.tables

    for table in DATA_TABLES:
        assert tables[table]["write_disposition"] == "merge"
    assert tables["companies"]["columns"]["properties__hs_lastmodifieddate"]["dedup_sort"] \
        == "desc"
    assert tables["contacts"]["columns"]["properties__lastmodifieddate"]["dedup_sort"] == "desc"
    assert tables["company_contacts"]["columns"]["to_id"]["merge_key"] is True
    assert tables["companies"]["columns"]["properties__csp_stripe_customer_id"]["data_type"] \
        == "text"
    assert {r.name: r.write_disposition for r in source.resources.values()} == {
        name: "merge" for name in (
            "companies", "contacts", "deals", "companies_archived", "contacts_archived",
            "deals_archived", "owners", "owners_archived", "company_contacts",
            "company_contacts_archived", "company_deals")}


# -- (2) and (3) incremental ----------------------------------------------------------------

def test_rerun_without_change_loads_nothing_and_reads_one_page_per_endpoint(
        sandbox: SandboxServer, warehouse: Warehouse) -> None:
    config = config_for(sandbox)
    load(warehouse, config)
    sandbox.reset_counts()

    report = load(warehouse, config)

    assert report.loaded == 0 and report.extracted == 0
    assert counts(sandbox) == Counter({
        "companies.search": 1, "contacts.search": 1, "deals.search": 1,
        "companies.list": 1, "contacts.list": 1, "deals.list": 1, "owners.list": 2})


def test_after_a_day_only_changes_are_fetched_and_raw_equals_a_fresh_load(
        sandbox: SandboxServer, world_copy: Path, postgres_dsn: str, duckdb_path: Path,
        tmp_path: Path) -> None:
    warehouse = Warehouse("postgres", duckdb_path, Secret(postgres_dsn))
    config = config_for(sandbox)
    load(warehouse, config)
    reader = WorldReader(world_copy)
    before = {kind: max(row[0] for row in reader.scan("hubspot", kind, limit=100_000))
              for kind in ("companies", "contacts", "deals")}
    step(world_copy.parent, 1)
    changed = {kind: reader.count("hubspot", kind, since=before[kind] + 0.0005)
               for kind in before}
    assert changed["companies"] > 0 and changed["contacts"] > 0
    sandbox.reset_counts()

    report = load(warehouse, config)

    for kind, n in changed.items():
        assert report.table(kind).extracted == n, kind
    served = counts(sandbox)
    assert served["companies.search"] == served["contacts.search"] == 1
    assert served["associations.batch_read"] <= 2        # one per non-empty page at most
    assert sum(served.values()) <= 10
    fresh = Warehouse("duckdb", tmp_path / "fresh.duckdb")
    load(fresh, config)
    for table in DATA_TABLES:
        assert (table_rows(warehouse, "raw_hubspot", table)
                == table_rows(fresh, "raw_hubspot", table)), table


def test_a_contact_moving_company_replaces_its_association(tmp_path: Path,
                                                           duckdb_warehouse: Warehouse) -> None:
    world = write_world(tmp_path / "world.sqlite", accounts=3)
    with SandboxServer(world) as sandbox:
        config = config_for(sandbox)
        load(duckdb_warehouse, config)
        writer = WorldWriter(world)
        writer.put(CONTACT, contact(1, 2, updated_at=1_709_300_000.0))
        writer.close()

        load(duckdb_warehouse, config)

    rows = query(duckdb_warehouse, "select from_id, to_id, archived from "
                                   "raw_hubspot.company_contacts where to_id = '101'")
    assert rows == [("7000000002", "101", False)]


def test_a_contact_archived_mid_run_is_stored_archived(tmp_path: Path,
                                                       duckdb_warehouse: Warehouse) -> None:
    world = write_world(tmp_path / "world.sqlite", accounts=3)
    with SandboxServer(world) as sandbox:
        config = config_for(sandbox)
        session = hubspot_session(config)
        paths: list[str] = []

        def archive_after_the_search(response: requests.Response, *args: Any,
                                     **kwargs: Any) -> None:
            parts = urlsplit(response.url)
            paths.append(parts.path + ("?archived" if "archived=true" in parts.query else ""))
            if paths[-1].endswith("/contacts/search"):
                writer = WorldWriter(world)
                writer.put(CONTACT, contact(1, 1, left_at=T0 + 5000, updated_at=T0 + 5000))
                writer.close()

        session.hooks["response"].append(archive_after_the_search)

        report = load(duckdb_warehouse, config, session=session)

    # Both versions of contact 101 were extracted: live from the search, then archived.
    assert paths.index("/hubspot/crm/v3/objects/contacts/search") \
        < paths.index("/hubspot/crm/v3/objects/contacts?archived")
    assert report.table("contacts").extracted == 4
    assert query(duckdb_warehouse, "select archived from raw_hubspot.contacts "
                                   "where id = '101'") == [(True,)]
    assert query(duckdb_warehouse, "select from_id, archived from raw_hubspot.company_contacts "
                                   "where to_id = '101'") == [("7000000001", True)]


# -- the 10,000-result cap ------------------------------------------------------------------

def test_search_cap_restarts_lose_and_repeat_nothing(
        sandbox: SandboxServer, world_copy: Path, duckdb_warehouse: Warehouse,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "SEARCH_RESULT_CAP", 60)
    answer = requests.post(f"{sandbox.base_url}/_sandbox/same-timestamp",
                           json={"vendor": "hubspot", "kind": "contacts", "count": 150},
                           timeout=10)
    assert answer.json()["changed"] == 150
    config = config_for(sandbox)
    session = hubspot_session(config)      # one limiter for both runs, as in one process

    report = load(duckdb_warehouse, config, session=session, page_size=20)

    live = world_count(world_copy, "contacts", deleted=False)
    assert report.table("contacts").extracted == world_count(world_copy, "contacts")
    assert scalar(duckdb_warehouse, "select count(distinct id) from raw_hubspot.contacts") \
        == world_count(world_copy, "contacts")
    served = counts(sandbox)
    # 60 results per window at most: the 150 sharing one millisecond take three windows by
    # id; no window is read twice, none hits HubSpot's 400.
    assert live / 20 <= served["contacts.search"] <= live / 20 + 6
    assert 400 not in sandbox.status_counts("hubspot")
    sandbox.reset_counts()

    again = load(duckdb_warehouse, config, session=session, page_size=20)

    assert again.loaded == 0
    assert counts(sandbox)["contacts.search"] == math.ceil(150 / 20)


# -- (4) rate limits and server errors ------------------------------------------------------

def test_429_storm_and_5xx_bursts_are_survived_under_the_limit(
        world_copy: Path, duckdb_warehouse: Warehouse) -> None:
    with SandboxServer(world_copy, rate_limits={"hubspot": RateLimit(12, 1.0)}) as sandbox:
        config = config_for(sandbox, CSP_HUBSPOT_RATE_LIMIT="10/1")
        for fault in (Fault("hubspot", "rate_limit", route="contacts.search", count=3),
                      Fault("hubspot", "http_error", route="companies.search", count=3,
                            status=503),
                      Fault("hubspot", "http_error", route="associations.batch_read", count=2,
                            status=502),
                      Fault("hubspot", "drop", route="deals.search", count=1),
                      Fault("hubspot", "http_error", route="contacts.list", count=2,
                            status=500)):
            sandbox.faults.add(fault)
        session = create_session("hubspot", rate_limit=config.rate_limit, retry=FAST_RETRY)

        report = load(duckdb_warehouse, config, session=session, page_size=50,
                      list_page_size=50)

        assert sandbox.limiter.rejected == 0
        assert not sandbox.faults.active()
        statuses = sandbox.status_counts("hubspot")
        assert statuses[429] == 3 and statuses[503] == 3 and statuses[502] == 2
    for table, kind in (("companies", "companies"), ("contacts", "contacts"),
                        ("deals", "deals")):
        assert report.table(table).loaded == world_count(world_copy, kind)
    assert report.http["retry_reasons"]["429"] == 3
    assert report.http["requests"] >= 40


# -- (5) drift and malformed pages ----------------------------------------------------------

def test_renamed_required_field_fails_with_exact_message_and_loads_nothing(
        sandbox: SandboxServer, duckdb_warehouse: Warehouse) -> None:
    sandbox.faults.add(Fault("hubspot", "drift_rename", route="companies.search",
                             field="properties.csp_stripe_customer_id",
                             to="csp_stripe_id"))
    config = config_for(sandbox)

    with pytest.raises(SchemaDriftError) as raised:
        load(duckdb_warehouse, config)

    assert str(raised.value) == (
        "hubspot.companies: field 'properties.csp_stripe_customer_id' missing from every "
        "record of the page (renamed or removed upstream?)")
    assert WarehouseLoader(duckdb_warehouse).stored_state("hubspot") == {}
    sandbox.faults.clear()
    assert load(duckdb_warehouse, config).table("companies").loaded == 115


def test_retyped_required_field_fails_naming_it(sandbox: SandboxServer,
                                                duckdb_warehouse: Warehouse) -> None:
    sandbox.faults.add(Fault("hubspot", "drift_type", route="companies.search",
                             field="properties.domain"))

    with pytest.raises(SchemaDriftError) as raised:
        load(duckdb_warehouse, config_for(sandbox))

    assert str(raised.value) == (
        "hubspot.companies: field 'properties.domain' changed type from string or null to "
        "object in every record of the page")


def test_renamed_association_field_fails_naming_the_table(sandbox: SandboxServer,
                                                          duckdb_warehouse: Warehouse) -> None:
    sandbox.faults.add(Fault("hubspot", "drift_rename", route="associations.batch_read",
                             field="to", to="targets"))

    with pytest.raises(SchemaDriftError) as raised:
        load(duckdb_warehouse, config_for(sandbox))

    assert str(raised.value).startswith("hubspot.company_")
    assert "field 'to' missing from every record of the page" in str(raised.value)


def test_new_field_becomes_a_reported_column(sandbox: SandboxServer, world_copy: Path,
                                             duckdb_warehouse: Warehouse) -> None:
    config = config_for(sandbox)
    load(duckdb_warehouse, config)
    step(world_copy.parent, 1)
    sandbox.faults.add(Fault("hubspot", "drift_add", route="companies.search",
                             field="properties.csp_health_tier", value="gold"))

    report = load(duckdb_warehouse, config)

    assert report.table("companies").new_columns == ("properties__csp_health_tier",)
    assert scalar(duckdb_warehouse, "select count(*) from raw_hubspot.companies where "
                                    "properties__csp_health_tier = 'gold'") \
        == report.table("companies").extracted > 0


def test_malformed_page_is_retried_and_the_load_completes(
        sandbox: SandboxServer, world_copy: Path, duckdb_warehouse: Warehouse) -> None:
    sandbox.faults.add(Fault("hubspot", "malformed", route="contacts.search", count=1))
    sandbox.faults.add(Fault("hubspot", "malformed", route="associations.batch_read", count=1))
    session = create_session("hubspot", rate_limit=RateLimit(90, 10.0), retry=FAST_RETRY)

    report = load(duckdb_warehouse, config_for(sandbox), session=session)

    assert report.table("contacts").loaded == world_count(world_copy, "contacts")
    assert report.table("company_contacts").loaded == world_count(world_copy, "contacts")
    assert report.http["retry_reasons"] == {"invalid JSON body": 2}


def test_a_quarantined_record_is_kept_with_its_reason(
        tmp_path: Path, duckdb_warehouse: Warehouse) -> None:
    world = write_world(tmp_path / "world.sqlite", accounts=3)
    with sqlite3.connect(world) as connection:
        connection.execute(
            "update objects set body = json_set(body, '$.properties.email', "
            "json('{\"primary\": \"cleo2@acme2.example\"}')) "
            "where vendor = 'hubspot' and kind = 'contacts' and id = '102'")
    with SandboxServer(world) as sandbox:
        report = load(duckdb_warehouse, config_for(sandbox))

    assert report.table("contacts").quarantined == 1
    assert report.table("contacts").loaded == 2
    reason, payload = query(duckdb_warehouse, "select reason, payload from "
                                              "raw_hubspot._quarantine")[0]
    assert reason == "field 'properties.email' is object, expected string or null"
    assert '"id": "102"' in payload
    # The quarantined contact's associations are not read: it is not a record yet.
    assert scalar(duckdb_warehouse, "select count(*) from raw_hubspot.company_contacts") == 2


# -- (6) credentials ------------------------------------------------------------------------

def test_wrong_token_is_one_line_naming_the_source_without_the_secret(
        sandbox: SandboxServer, duckdb_warehouse: Warehouse) -> None:
    secret = "pat-na1-wrong-0123456789abcdef"
    config = config_for(sandbox, CSP_HUBSPOT_TOKEN=secret)

    with pytest.raises(VendorRequestError) as raised:
        load(duckdb_warehouse, config)

    message = str(raised.value)
    assert message.startswith("hubspot: ") and "\n" not in message
    assert message.endswith("answered HTTP 401 INVALID_AUTHENTICATION")
    assert secret not in message and "Traceback" not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_page_sizes_beyond_hubspot_limits_are_refused_up_front(sandbox: SandboxServer) -> None:
    with pytest.raises(ValueError, match="page_size must be within 1..200, not 500"):
        hubspot_source(config_for(sandbox), page_size=500)

    assert counts(sandbox) == Counter()
