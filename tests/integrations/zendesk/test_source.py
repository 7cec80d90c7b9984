"""The Zendesk source against the sandbox over real HTTP, into real DuckDB and PostgreSQL.

Counts are checked against the sandbox's store, requests against the sandbox's own request
counter, and an incremental warehouse against a fresh full load of the same upstream, row by
row. Retries use a fast backoff so fault tests stay quick; rate limits are the real ones.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
import requests

from csp.settings import VendorConfig, load_settings
from csp.warehouse import Warehouse
from integrations.contracts import SchemaDriftError
from integrations.http import RetryPolicy, VendorHTTPError
from integrations.loader import LoadReport, WarehouseLoader
from integrations.ratelimit import ClientRateLimiter, RateLimit
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.simulation import step
from integrations.sandbox.store import WorldReader, WorldWriter
from integrations.sandbox.vendors.zendesk import Zendesk
from integrations.sandbox.vendors.zendesk_wire import world_now
from integrations.zendesk import zendesk_session, zendesk_source
from tests.integrations.echo_vendor import make_warehouse, query

FAST = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)
KINDS = ("tickets", "ticket_metrics", "users", "organizations", "satisfaction_ratings")
EXPORT_ROUTES = ("zendesk incremental.tickets", "zendesk incremental.users",
                 "zendesk incremental.organizations")
ONE_REQUEST_EACH = {route: 1 for route in (*EXPORT_ROUTES, "zendesk satisfaction_ratings.list")}
CHILD_TABLES = {"tickets__tags": "tickets", "organizations__domain_names": "organizations"}


def config(server: SandboxServer, **env: str) -> VendorConfig:
    return load_settings({"CSP_ZENDESK_BASE_URL": server.url("zendesk"), **env}
                         ).vendors["zendesk"]


def run(server: SandboxServer, loader: WarehouseLoader, *, name: str | None = None,
        limiter: ClientRateLimiter | None = None, retry: RetryPolicy = FAST,
        **tuning: Any) -> LoadReport:
    cfg = config(server)
    http = zendesk_session(cfg, retry=retry, **({"limiter": limiter} if limiter else {}))
    source = zendesk_source(cfg, session=http, **tuning)
    report = loader.load(source.clone(with_name=name) if name else source,
                         http_stats=http.stats.snapshot)
    print(report)
    return report


def store_count(world: Path, kind: str) -> int:
    return int(WorldReader(world).count("zendesk", kind))


def rows(warehouse: Warehouse, dataset: str, table: str) -> list[str]:
    """Every row of a raw table as sorted JSON of its non-null data columns (dlt's own columns
    left out: ids and load ids differ between two loads of the same data)."""
    parent = CHILD_TABLES.get(table)
    sql = (f"select p.id as parent_id, c.value from {dataset}.{table} c join {dataset}.{parent}"
           f" p on c._dlt_root_id = p._dlt_id" if parent else f"select * from {dataset}.{table}")
    connection = warehouse.connect()
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        names = [column[0] for column in cursor.description]
        found = [json.dumps({name: value for name, value in zip(names, row, strict=True)
                             if value is not None and not name.startswith("_dlt")},
                            sort_keys=True, default=str) for row in cursor.fetchall()]
    finally:
        connection.close()
    return sorted(found)


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, duckdb_path: Path) -> Warehouse:
    return make_warehouse(request.param, duckdb_path, request)


def test_full_load_lands_every_record_with_identity_keys(sandbox: SandboxServer,
                                                         world_copy: Path,
                                                         duckdb_path: Path) -> None:
    warehouse = Warehouse("duckdb", duckdb_path)
    report = run(sandbox, WarehouseLoader(warehouse))
    expected = {kind: store_count(world_copy, kind) for kind in KINDS}
    assert {kind: report.table(kind).loaded for kind in KINDS} == expected
    for kind in KINDS:
        assert query(warehouse, f"select count(*), count(distinct id) from raw_zendesk.{kind}"
                     ) == [(expected[kind], expected[kind])]
    organizations = list(WorldReader(world_copy).iter_objects("zendesk", "organizations"))
    with_external_id = sorted((o["id"], o["external_id"]) for o in organizations
                              if o["external_id"] is not None)
    assert with_external_id and query(
        warehouse, "select id, external_id from raw_zendesk.organizations where external_id "
                   "is not null order by id") == with_external_id
    domains = sorted((o["id"], d) for o in organizations for d in o["domain_names"])
    assert sorted(query(warehouse, "select o.id, d.value from raw_zendesk.organizations__domain"
                                   "_names d join raw_zendesk.organizations o on d._dlt_root_id"
                                   " = o._dlt_id")) == domains
    assert query(warehouse, "select count(*) from raw_zendesk.users where email is null") == [
        (0,)]
    assert query(warehouse, "select count(*) from raw_zendesk.tickets where organization_id "
                            "is null") == [(0,)]
    ratings_pages = math.ceil(expected["satisfaction_ratings"] / 100)
    assert sandbox.request_counts("zendesk") == {
        **{route: 1 for route in EXPORT_ROUTES},
        "zendesk satisfaction_ratings.list": ratings_pages}


def test_reruns_fetch_only_changes_and_match_a_fresh_load(sandbox: SandboxServer,
                                                          world_copy: Path,
                                                          warehouse: Warehouse) -> None:
    loader = WarehouseLoader(warehouse)
    run(sandbox, loader)
    sandbox.reset_counts()
    unchanged = run(sandbox, loader)
    assert (unchanged.extracted, unchanged.loaded) == (0, 0)
    assert sandbox.request_counts("zendesk") == ONE_REQUEST_EACH

    clock_end = world_now(WorldReader(world_copy))
    step(world_copy.parent, 1)
    reader = WorldReader(world_copy)
    changed = {kind: reader.count("zendesk", kind, since=clock_end) for kind in KINDS}
    assert changed["tickets"] > 0 and changed["satisfaction_ratings"] > 0
    sandbox.reset_counts()
    stepped = run(sandbox, loader)
    assert sandbox.request_counts("zendesk") == ONE_REQUEST_EACH
    assert {kind: stepped.table(kind).extracted for kind in KINDS} == changed

    run(sandbox, loader, name="zendesk_fresh")
    for table in (*KINDS, *CHILD_TABLES):
        incremental = rows(warehouse, "raw_zendesk", table)
        assert incremental == rows(warehouse, "raw_zendesk_fresh", table), table
        if table in KINDS:
            assert len(incremental) == reader.count("zendesk", table)


def _extra_tickets(world: Path, count: int) -> None:
    """`count` more tickets (copies of ticket 2 under new ids), so more than one export page
    of 1,000 can share one update time."""
    template = WorldReader(world).get("zendesk", "tickets", "2")
    assert template is not None
    writer = WorldWriter(world)
    vendor = Zendesk({})
    try:
        for ticket_id in range(1_000_000, 1_000_000 + count):
            body = copy.deepcopy(template)
            body.update(id=ticket_id, url=f"/api/v2/tickets/{ticket_id}.json")
            vendor.load_fixture("tickets", body, writer.sink)
    finally:
        writer.close()


def _share_one_timestamp(server: SandboxServer, kind: str, count: int) -> int:
    answer = requests.post(f"{server.base_url}/_sandbox/same-timestamp",
                           json={"vendor": "zendesk", "kind": kind, "count": count}, timeout=10)
    answer.raise_for_status()
    return int(answer.json()["changed"])


def test_more_than_a_page_of_tickets_sharing_one_timestamp(sandbox: SandboxServer,
                                                           world_copy: Path,
                                                           duckdb_path: Path) -> None:
    _extra_tickets(world_copy, 1300)
    assert _share_one_timestamp(sandbox, "tickets", 1500) == 1500
    total = store_count(world_copy, "tickets")
    warehouse = Warehouse("duckdb", duckdb_path)
    loader = WarehouseLoader(warehouse)
    first = run(sandbox, loader)
    assert first.table("tickets").loaded == total > 1500
    assert query(warehouse, "select count(*), count(distinct id) from raw_zendesk.tickets") == [
        (total, total)]
    assert query(warehouse, "select count(*) from raw_zendesk.tickets where updated_at = "
                            "(select max(updated_at) from raw_zendesk.tickets)") == [(1500,)]
    assert sandbox.request_counts("zendesk")["zendesk incremental.tickets"] == math.ceil(
        total / 1000)
    sandbox.reset_counts()
    again = run(sandbox, loader)
    assert (again.extracted, again.loaded) == (0, 0)
    assert sandbox.request_counts("zendesk") == ONE_REQUEST_EACH


def test_organizations_sharing_one_second_beyond_a_page(sandbox: SandboxServer,
                                                        world_copy: Path,
                                                        duckdb_path: Path) -> None:
    organizations = store_count(world_copy, "organizations")
    assert _share_one_timestamp(sandbox, "organizations", organizations) == organizations
    loader = WarehouseLoader(Warehouse("duckdb", duckdb_path))
    first = run(sandbox, loader, export_page_size=50)
    assert first.table("organizations").loaded == organizations
    # One page: the export extends a full page to the end of its last second.
    assert sandbox.request_counts("zendesk")["zendesk incremental.organizations"] == 1
    sandbox.reset_counts()
    again = run(sandbox, loader, export_page_size=50)
    assert again.table("organizations").extracted == 0
    assert sandbox.request_counts("zendesk")["zendesk incremental.organizations"] == 1


def test_a_start_time_in_the_vendors_last_minute_is_not_an_error(sandbox: SandboxServer,
                                                                 world_copy: Path,
                                                                 duckdb_path: Path) -> None:
    now = int(world_now(WorldReader(world_copy)))
    warehouse = Warehouse("duckdb", duckdb_path)
    loader = WarehouseLoader(warehouse)
    early = run(sandbox, loader, start_time=now - 30)       # Zendesk answers 422 here
    assert early.table("tickets").extracted == early.table("organizations").extracted == 0
    assert sandbox.status_counts("zendesk").get(422) == 3

    # An organization updated 10 s before the vendor's "now" moves the stored position into
    # the last minute: the next run is told 422 and must neither fail nor lose anything.
    loader = WarehouseLoader(Warehouse("duckdb", duckdb_path.with_name("second.duckdb")))
    run(sandbox, loader)
    recent = now - 10
    sandbox.world.mutate_objects(
        "update objects set updated = ?, body = json_set(body, '$.updated_at', "
        "strftime('%Y-%m-%dT%H:%M:%SZ', ?, 'unixepoch')) where vendor = 'zendesk' and "
        "kind = 'organizations' and id = (select min(id) from objects where vendor = "
        "'zendesk' and kind = 'organizations')", (float(recent), recent))
    assert run(sandbox, loader).table("organizations").extracted == 1
    sandbox.reset_counts()
    told_too_recent = run(sandbox, loader)
    assert told_too_recent.table("organizations").extracted == 0
    assert sandbox.status_counts("zendesk").get(422) == 1
    step(world_copy.parent, 1)
    after = run(sandbox, loader)
    assert after.table("organizations").extracted == WorldReader(world_copy).count(
        "zendesk", "organizations", since=now)


def _faults(server: SandboxServer, *specs: dict[str, Any]) -> None:
    """Replace the sandbox's faults with `specs` (Zendesk's)."""
    requests.delete(f"{server.base_url}/_sandbox/faults", timeout=5).raise_for_status()
    for spec in specs:
        requests.post(f"{server.base_url}/_sandbox/faults", json={"vendor": "zendesk", **spec},
                      timeout=5).raise_for_status()


def test_429_storm_and_5xx_bursts_lose_nothing_and_respect_the_limit(world_copy: Path,
                                                                     duckdb_path: Path,
                                                                     ) -> None:
    with SandboxServer(world_copy, rate_limits={"zendesk": RateLimit(10, 1.0)}) as server:
        _faults(server, {"kind": "rate_limit", "count": 3, "seconds": 1},
                {"kind": "http_error", "status": 503, "count": 2},
                {"kind": "http_error", "status": 500, "count": 2, "probability": 0.3},
                {"kind": "drop", "route": "incremental.tickets", "count": 1})
        warehouse = Warehouse("duckdb", duckdb_path)
        # Enough attempts for the worst case, every fault landing on one request.
        report = run(server, WarehouseLoader(warehouse),
                     limiter=ClientRateLimiter(RateLimit(9, 1.0)), export_page_size=100,
                     list_page_size=50, retry=RetryPolicy(max_attempts=10, backoff_initial=0.01,
                                                          backoff_max=0.05))
        http = report.http
        print(f"{http['requests']} requests, retries {http['retry_reasons']}, limiter waits "
              f"{http['rate_limit_waits']} ({http['rate_limit_wait_seconds']}s); server "
              f"rejected {server.limiter.rejected}")
        assert {kind: report.table(kind).loaded for kind in KINDS} == {
            kind: store_count(world_copy, kind) for kind in KINDS}
        reasons = http["retry_reasons"]
        assert (reasons["429"], reasons["503"], reasons["ConnectionError"]) == (3, 2, 1)
        assert server.limiter.rejected == 0 and http["rate_limit_waits"] > 0


def test_drift_fails_loudly_or_evolves_and_malformed_pages_are_retried(
        sandbox: SandboxServer, world_copy: Path, duckdb_path: Path) -> None:
    warehouse = Warehouse("duckdb", duckdb_path)
    loader = WarehouseLoader(warehouse)
    _faults(sandbox, {"kind": "drift_rename", "route": "incremental.tickets",
                      "field": "organization_id", "to": "org_id"})
    with pytest.raises(SchemaDriftError) as renamed:
        run(sandbox, loader)
    assert str(renamed.value) == ("zendesk.tickets: field 'organization_id' missing from every "
                                  "record of the page (renamed or removed upstream?)")
    _faults(sandbox, {"kind": "drift_type", "route": "incremental.tickets",
                      "field": "organization_id"})
    with pytest.raises(SchemaDriftError) as retyped:
        run(sandbox, loader)
    assert str(retyped.value) == ("zendesk.tickets: field 'organization_id' changed type from "
                                  "integer or null to string in every record of the page")
    # Nothing moved past the failed pages: the whole history is still to be loaded.
    _faults(sandbox, {"kind": "malformed", "route": "incremental.organizations", "count": 1})
    report = run(sandbox, loader)
    assert report.http["retry_reasons"] == {"invalid JSON body": 1}
    assert {kind: report.table(kind).loaded for kind in KINDS} == {
        kind: store_count(world_copy, kind) for kind in KINDS}

    clock_end = world_now(WorldReader(world_copy))
    step(world_copy.parent, 1)
    changed = WorldReader(world_copy).count("zendesk", "tickets", since=clock_end)
    _faults(sandbox, {"kind": "drift_add", "route": "incremental.tickets", "field": "sla_tier",
                      "value": "gold"})
    added = run(sandbox, loader)
    assert added.table("tickets").new_columns == ("sla_tier",)
    assert added.table("tickets").loaded == changed > 0
    assert query(warehouse, "select sla_tier, count(*) from raw_zendesk.tickets group by "
                            "sla_tier order by sla_tier") == [
        ("gold", changed), (None, store_count(world_copy, "tickets") - changed)]


def test_wrong_credentials_give_one_line_naming_the_source(sandbox: SandboxServer,
                                                           duckdb_path: Path) -> None:
    wrong = config(sandbox, CSP_ZENDESK_API_TOKEN="not-the-token")
    loader = WarehouseLoader(Warehouse("duckdb", duckdb_path))
    with pytest.raises(VendorHTTPError) as caught:
        loader.load(zendesk_source(wrong, session=zendesk_session(wrong, retry=FAST)))
    message = str(caught.value)
    assert message.startswith("zendesk: GET /zendesk/api/v2/")
    assert message.endswith(" answered HTTP 401 Unauthorized")
    assert "\n" not in message and "not-the-token" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
