"""The Stripe source against the sandbox over real HTTP, into real DuckDB and PostgreSQL.

What is proved: a full load lands every object and event the sandbox serves, with the
identity keys; a rerun with no change loads nothing and reads one page per list; a day later
only the changes are read and the raw tables equal a fresh full load; deletions arrive through
events; long invoices are read whole; a cursor older than Stripe's 30-day event window
triggers a logged full refresh; `--full-refresh` rebuilds the object tables and keeps the event
history; 429 storms, 5xx bursts and a dropped connection lose nothing
and never exceed the sandbox's rate; drift fails or is reported exactly; a wrong key gives one
clean line.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from csp.warehouse import Warehouse
from integrations.contracts import SchemaDriftError
from integrations.loader import LoadReport, WarehouseLoader
from integrations.sandbox.faults import Fault
from integrations.sandbox.routing import RateLimit
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.simulation import step
from integrations.sandbox.store import WorldReader
from integrations.stripe.client import StripeAuthError
from integrations.stripe.settings import API_VERSION, KINDS_BY_NOUN
from tests.integrations.echo_vendor import make_warehouse
from tests.integrations.stripe.conftest import (
    DATASET,
    KINDS,
    Snapshot,
    WorldEdit,
    retention_start,
    rows,
    run,
    snapshot,
    stripe_config,
    stripe_session,
    world_events,
)


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, duckdb_path: Path) -> Warehouse:
    return make_warehouse(request.param, duckdb_path, request)


@pytest.fixture
def duckdb_warehouse(duckdb_path: Path) -> Warehouse:
    return Warehouse("duckdb", duckdb_path)


def count(warehouse: Warehouse, table: str, where: str = "true") -> int:
    return int(rows(warehouse, f"select count(*) as n from {DATASET}.{table} where {where}"
                    )[0]["n"])


def cursors(loader: WarehouseLoader) -> dict[str, Any]:
    """The `created` cursor of every resource as the warehouse holds it."""
    resources = loader.stored_state("stripe")["sources"]["stripe"]["resources"]
    return {name: state["incremental"]["created"]["last_value"]
            for name, state in resources.items() if "incremental" in state}


def one_page_each(extra: dict[str, int] | None = None) -> dict[str, int]:
    """The requests of an incremental run: one page per list, the events, one probe."""
    return {**{f"stripe {kind}.list": 1 for kind in KINDS}, "stripe events.list": 1,
            "stripe events.retrieve": 1, **(extra or {})}


def changed_objects(world: Path, *, since: float, until: float = math.inf,
                    ) -> set[tuple[str, str]]:
    """(table, id) of the loaded objects that events created in [since, until) changed."""
    return {(KINDS_BY_NOUN[e["data"]["object"]["object"]].table, e["data"]["object"]["id"])
            for e in world_events(world, since=since)
            if e["created"] < until and e["data"]["object"]["object"] in KINDS_BY_NOUN}


def fresh_load(server: SandboxServer, path: Path) -> Snapshot:
    """The raw tables a first load of the sandbox as it is now produces (DuckDB)."""
    warehouse = Warehouse("duckdb", path)
    run(server, WarehouseLoader(warehouse))
    return snapshot(warehouse)


def assert_equal_to_fresh(loaded: Snapshot, fresh: Snapshot, earlier_events: Counter[Any],
                          ) -> None:
    """Object tables as a fresh load has them; events: the earlier history plus all new."""
    assert sorted(loaded) == sorted(fresh)
    for table in fresh:
        if table != "events":
            assert loaded[table] == fresh[table], f"{table} differs from a fresh full load"
    assert loaded["events"] == earlier_events | fresh["events"]
    assert not fresh["events"] - loaded["events"]


# -- a full load, shared by the read-only checks ---------------------------------------------


@dataclass(frozen=True)
class FullLoad:
    warehouse: Warehouse
    loader: WarehouseLoader
    report: LoadReport
    requests: dict[str, int]
    versions: list[str | None]
    seconds: float


@pytest.fixture(scope="module")
def full_load(shared_sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory,
              ) -> FullLoad:
    warehouse = Warehouse("duckdb", tmp_path_factory.mktemp("stripe") / "warehouse.duckdb")
    loader = WarehouseLoader(warehouse)
    session = stripe_session(stripe_config(shared_sandbox))
    versions: list[str | None] = []
    session.hooks["response"].append(
        lambda response, *args, **kwargs: versions.append(
            response.request.headers.get("Stripe-Version")))
    shared_sandbox.reset_counts()
    started = time.monotonic()
    report = run(shared_sandbox, loader, session=session)
    seconds = time.monotonic() - started
    print(f"full load: {report.extracted} records, {report.http['requests']} requests in "
          f"{seconds:.1f}s = {report.extracted / seconds:.0f} records/s")
    return FullLoad(warehouse, loader, report, shared_sandbox.request_counts("stripe"),
                    versions, seconds)


def test_full_load_lands_every_object_and_event_with_identity_keys(
        full_load: FullLoad, small_world: Path) -> None:
    world, warehouse = WorldReader(small_world), full_load.warehouse
    for kind in KINDS:
        expected = world.count("stripe", kind)
        assert count(warehouse, kind) == full_load.report.table(kind).loaded == expected, kind
    served_events = world_events(small_world, since=retention_start(small_world))
    assert count(warehouse, "events") == len(served_events) > 0
    assert full_load.report.quarantined == 0
    customers = list(world.iter_objects("stripe", "customers"))
    assert count(warehouse, "customers", "metadata__workspace_id is not null "
                                         "and email is not null") == len(customers)
    with_crm = [c for c in customers if "hubspot_company_id" in c["metadata"]]
    assert 0 < len(with_crm) < len(customers)
    assert count(warehouse, "customers", "metadata__hubspot_company_id is not null and "
                                         "metadata__salesforce_account_id is not null"
                 ) == len(with_crm)
    canceled = [s for s in world.iter_objects("stripe", "subscriptions")
                if s["status"] == "canceled"]
    assert count(warehouse, "subscriptions", "status = 'canceled'") == len(canceled) > 0
    for table in ("subscriptions", "invoices", "charges"):
        assert count(warehouse, table, f"customer not in (select id from {DATASET}.customers)"
                     ) == 0, f"{table} names a customer that was not loaded"
    assert count(warehouse, "subscriptions__items__data") == sum(
        len(s["items"]["data"]) for s in world.iter_objects("stripe", "subscriptions"))
    assert count(warehouse, "invoices__lines__data") == sum(
        len(i["lines"]["data"]) for i in world.iter_objects("stripe", "invoices"))


def test_full_load_reads_whole_pages_and_always_sends_the_api_version(
        full_load: FullLoad, small_world: Path) -> None:
    world = WorldReader(small_world)
    served_events = len(world_events(small_world, since=retention_start(small_world)))
    expected = {f"stripe {kind}.list": max(1, math.ceil(world.count("stripe", kind) / 100))
                for kind in KINDS}
    expected["stripe events.list"] = math.ceil(served_events / 100)
    assert full_load.requests == expected
    assert full_load.versions == [API_VERSION] * sum(expected.values())


def test_cursors_are_the_newest_created_seen_not_the_last_page(full_load: FullLoad,
                                                                small_world: Path) -> None:
    """Lists come newest first: the last page holds the oldest objects, not the cursor."""
    world = WorldReader(small_world)
    stored = cursors(full_load.loader)
    for kind in KINDS:
        assert stored[kind] == max(o["created"] for o in world.iter_objects("stripe", kind))
    newest = world.events("stripe", limit=1)[0][1]
    assert stored["events"] == newest["created"]
    feed = full_load.loader.stored_state("stripe")["sources"]["stripe"]["event_feed"]
    assert feed == {"id": newest["id"], "created": newest["created"]}


def test_a_wrong_key_gives_one_clean_line_naming_the_source(
        shared_sandbox: SandboxServer, duckdb_warehouse: Warehouse,
        caplog: pytest.LogCaptureFixture) -> None:
    wrong = "sk_test_not_the_key_4242"
    with caplog.at_level(logging.DEBUG), pytest.raises(StripeAuthError) as caught:
        run(shared_sandbox, WarehouseLoader(duckdb_warehouse),
            env={"CSP_STRIPE_API_KEY": wrong})
    message = str(caught.value)
    assert message.startswith("stripe: GET /stripe/v1/")
    assert "answered HTTP 401" in message and "check the Stripe key" in message
    assert "\n" not in message and "Traceback" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert wrong not in message and wrong not in caplog.text
    assert wrong[8:] not in caplog.text


# -- incremental runs (DuckDB and PostgreSQL) ------------------------------------------------


@pytest.fixture(scope="module")
def fresh_after_one_day(small_world: Path, tmp_path_factory: pytest.TempPathFactory,
                        ) -> Snapshot:
    """A first load of the small world one simulated day later (the same for every engine)."""
    world_dir = tmp_path_factory.mktemp("stripe-day") / "world"
    shutil.copytree(small_world.parent, world_dir)
    step(world_dir, 1)
    with SandboxServer(world_dir / small_world.name) as server:
        return fresh_load(server, world_dir.parent / "fresh.duckdb")


def test_incremental_runs_read_only_what_changed_and_equal_a_fresh_load(
        sandbox: SandboxServer, world_copy: Path, warehouse: Warehouse,
        fresh_after_one_day: Snapshot) -> None:
    loader = WarehouseLoader(warehouse)
    run(sandbox, loader)
    earlier = snapshot(warehouse)
    before = cursors(loader)

    sandbox.reset_counts()
    unchanged = run(sandbox, loader)
    assert (unchanged.extracted, unchanged.loaded, unchanged.quarantined) == (0, 0, 0)
    assert sandbox.request_counts("stripe") == one_page_each()
    assert snapshot(warehouse) == earlier

    step(world_copy.parent, 1)
    world = WorldReader(world_copy)
    new_events = world_events(world_copy, since=before["events"] + 1)
    changed = changed_objects(world_copy, since=before["events"] + 1)
    old_subscriptions = {object_id for table, object_id in changed if table == "subscriptions"
                         and world.get("stripe", "subscriptions", object_id)["created"]
                         < before["subscriptions"]}
    assert new_events and old_subscriptions, "the day should renew old subscriptions"
    sandbox.reset_counts()
    report = run(sandbox, loader)
    assert sandbox.request_counts("stripe") == one_page_each()
    assert report.table("events").extracted == report.table("events").loaded == len(new_events)
    for kind in KINDS:
        listed = sum(1 for o in world.iter_objects("stripe", kind) if o["created"] > before[kind])
        from_events = sum(1 for table, _ in changed if table == kind)
        assert report.table(kind).extracted == listed + from_events, kind
    for object_id in old_subscriptions:       # changed months after they were created
        [row] = rows(warehouse, f"select status, current_period_end from {DATASET}."
                                f"subscriptions where id = '{object_id}'")
        current = world.get("stripe", "subscriptions", object_id)
        assert (row["status"], row["current_period_end"]) == (
            current["status"], current["current_period_end"])
    assert_equal_to_fresh(snapshot(warehouse), fresh_after_one_day, earlier["events"])


# -- what only events can tell ---------------------------------------------------------------


def test_deletions_arrive_through_events_as_flags_not_dropped_rows(
        sandbox: SandboxServer, world_copy: Path, duckdb_warehouse: Warehouse) -> None:
    loader = WarehouseLoader(duckdb_warehouse)
    run(sandbox, loader)
    edit = WorldEdit(world_copy)
    active = next(s for s in edit.reader.iter_objects("stripe", "subscriptions")
                  if s["status"] == "active")
    customer = edit.get("customers", active["customer"])
    when = int(edit.at)
    ended = {**active, "status": "canceled", "canceled_at": when, "ended_at": when}
    edit.save("subscriptions", ended, "customer.subscription.deleted")
    edit.save("customers", customer, "customer.deleted", deleted=True)
    customers_before = count(duckdb_warehouse, "customers")

    report = run(sandbox, loader)
    assert report.table("events").loaded == 2
    assert count(duckdb_warehouse, "customers") == customers_before
    [gone] = rows(duckdb_warehouse, f"select deleted, email from {DATASET}.customers "
                                    f"where id = '{customer['id']}'")
    assert gone == {"deleted": True, "email": customer["email"]}
    assert count(duckdb_warehouse, "customers", "deleted") == 1
    [sub] = rows(duckdb_warehouse, f"select status, ended_at, deleted from {DATASET}."
                                   f"subscriptions where id = '{active['id']}'")
    assert sub == {"status": "canceled", "ended_at": when, "deleted": False}


def test_an_invoice_with_more_than_ten_lines_is_loaded_whole(
        sandbox: SandboxServer, world_copy: Path, duckdb_warehouse: Warehouse) -> None:
    edit = WorldEdit(world_copy)
    template = next(edit.reader.iter_objects("stripe", "invoices"))
    lines = [{**template["lines"]["data"][0], "id": f"il_long_{n:02d}", "amount": 100 + n}
             for n in range(23)]
    invoice = {**template, "id": "in_long_invoice_000000001", "created": int(edit.at),
               "lines": {**template["lines"], "data": lines,
                         "url": "/v1/invoices/in_long_invoice_000000001/lines"}}
    edit.save("invoices", invoice, "invoice.created")

    run(sandbox, WarehouseLoader(duckdb_warehouse), lines_page_size=5)
    # The listed invoice and its invoice.created event each embed 10 of 23 lines: 13 more
    # lines each, read 5 at a time after the last embedded one.
    assert sandbox.request_counts("stripe")["stripe invoices.lines"] == 2 * 3
    stored = rows(duckdb_warehouse, f"select l.id, l.amount from {DATASET}.invoices__lines__data l "
                                    f"join {DATASET}.invoices i on l._dlt_parent_id = i._dlt_id "
                                    f"where i.id = '{invoice['id']}' order by l._dlt_list_idx")
    assert stored == [{"id": line["id"], "amount": line["amount"]} for line in lines]


def test_an_event_cursor_older_than_thirty_days_relists_and_full_refresh_keeps_events(
        sandbox: SandboxServer, world_copy: Path, duckdb_warehouse: Warehouse,
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    loader = WarehouseLoader(duckdb_warehouse)
    run(sandbox, loader)
    earlier = snapshot(duckdb_warehouse)
    before = cursors(loader)
    step(world_copy.parent, 31)
    served_from = retention_start(world_copy)
    gone = changed_objects(world_copy, since=before["events"] + 1, until=served_from)
    still_served = changed_objects(world_copy, since=served_from)
    assert gone - still_served, "some objects should have changed only in the lost days"
    sandbox.reset_counts()
    with caplog.at_level(logging.WARNING, logger="integrations.stripe"):
        run(sandbox, loader)
    refreshed = sorted(r.getMessage().split(":")[0] for r in caplog.records
                       if "listing every object (full refresh)" in r.getMessage())
    assert refreshed == sorted(f"stripe.{kind}" for kind in KINDS)
    assert "Stripe keeps events 30 days" in caplog.text
    world = WorldReader(world_copy)
    served_events = len(world_events(world_copy, since=served_from))
    expected = one_page_each({f"stripe {kind}.list": max(1, math.ceil(
        world.count("stripe", kind) / 100)) for kind in KINDS})
    expected["stripe events.list"] = math.ceil(served_events / 100)
    assert sandbox.request_counts("stripe") == expected
    # The objects that changed only on the first day are in no event Stripe still serves:
    # only the refresh brings them in, and the tables equal a fresh load, coupons included.
    fresh = fresh_load(sandbox, tmp_path / "fresh.duckdb")
    assert_equal_to_fresh(snapshot(duckdb_warehouse), fresh, earlier["events"])
    newest = world.events("stripe", limit=1)[0][1]
    assert loader.stored_state("stripe")["sources"]["stripe"]["event_feed"]["id"] == newest["id"]

    # `csp ingest --full-refresh`: the events no longer served cannot be read again, so the
    # append-only `events` table and its cursor survive; the object tables are rebuilt.
    history = snapshot(duckdb_warehouse, ["events"])["events"]
    served = {event["id"] for event in world_events(world_copy, since=served_from)}
    assert {path[0] for path, _ in history} - served, "some loaded events are no longer served"
    connection = duckdb_warehouse.connect()
    try:                                  # a row no list returns: only a rebuild removes it
        connection.execute(f"update {DATASET}.customers set id = 'cus_unlisted' "
                           f"where id = (select min(id) from {DATASET}.customers)")
    finally:
        connection.close()
    sandbox.reset_counts()
    report = run(sandbox, loader, full_refresh=True)
    assert report.table("events").loaded == 0
    assert sandbox.request_counts("stripe")["stripe events.list"] == 1
    assert_equal_to_fresh(snapshot(duckdb_warehouse), fresh, history)
    assert snapshot(duckdb_warehouse, ["events"])["events"] == history


# -- faults ----------------------------------------------------------------------------------


def test_429_storms_5xx_bursts_and_a_dropped_connection_lose_nothing(
        world_copy: Path, duckdb_warehouse: Warehouse) -> None:
    limits = {"stripe": RateLimit(25, 1.0)}
    with SandboxServer(world_copy, rate_limits=limits) as server:
        for fault in (Fault("stripe", "rate_limit", route="events.list", count=5),
                      Fault("stripe", "rate_limit", route="customers.list", count=5),
                      Fault("stripe", "http_error", route="invoices.list", count=3,
                            status=503),
                      Fault("stripe", "http_error", route="charges.list", count=2, status=502),
                      Fault("stripe", "http_error", route="charges.list", count=2, status=500),
                      Fault("stripe", "drop", route="subscriptions.list", count=1)):
            server.faults.add(fault)
        started = time.monotonic()
        report = run(server, WarehouseLoader(duckdb_warehouse),
                     env={"CSP_STRIPE_RATE_LIMIT": "20/1"}, page_size=40)
        seconds = time.monotonic() - started
        assert server.limiter.rejected == 0
        assert server.faults.active() == []
    world = WorldReader(world_copy)
    for kind in KINDS:
        assert rows(duckdb_warehouse, f"select count(*) as n, count(distinct id) as ids "
                                      f"from {DATASET}.{kind}")[0] == {
            "n": world.count("stripe", kind), "ids": world.count("stripe", kind)}, kind
    assert count(duckdb_warehouse, "events") == len(
        world_events(world_copy, since=retention_start(world_copy)))
    assert report.http["statuses"][429] == 10
    assert report.http["retry_reasons"] == {"429": 10, "503": 3, "502": 2, "500": 2,
                                            "ConnectionError": 1}
    print(f"{report.http['requests']} requests in {seconds:.1f}s "
          f"({report.http['requests'] / seconds:.1f}/s, client limit 20/s)")


def fault(server: SandboxServer, **spec: Any) -> None:
    server.faults.add(Fault("stripe", **spec))


def test_a_renamed_required_field_fails_the_run_and_commits_nothing(
        sandbox: SandboxServer, duckdb_warehouse: Warehouse) -> None:
    fault(sandbox, kind="drift_rename", route="subscriptions.list", field="status",
          to="state")
    loader = WarehouseLoader(duckdb_warehouse)
    with pytest.raises(SchemaDriftError) as caught:
        run(sandbox, loader)
    assert str(caught.value) == ("stripe.subscriptions: field 'status' missing from every "
                                 "record of the page (renamed or removed upstream?)")
    assert loader.stored_state("stripe") == {}


def test_a_type_change_of_a_typed_field_fails_naming_it(sandbox: SandboxServer,
                                                       duckdb_warehouse: Warehouse) -> None:
    fault(sandbox, kind="drift_type", route="invoices.list", field="total")
    with pytest.raises(SchemaDriftError) as caught:
        run(sandbox, WarehouseLoader(duckdb_warehouse))
    assert str(caught.value) == ("stripe.invoices: field 'total' changed type from integer "
                                 "to string in every record of the page")


def test_a_new_field_is_added_and_reported_and_a_malformed_page_is_read_again(
        sandbox: SandboxServer, world_copy: Path, duckdb_warehouse: Warehouse) -> None:
    loader = WarehouseLoader(duckdb_warehouse)
    run(sandbox, loader)
    before = cursors(loader)
    step(world_copy.parent, 1)
    # Stripe adds a field to invoices: lists and event payloads both carry it from now on.
    fault(sandbox, kind="drift_add", route="invoices.list", field="dunning_stage",
          value="first_notice")
    fault(sandbox, kind="drift_add", route="events.list", field="data.object.dunning_stage",
          value="first_notice")
    fault(sandbox, kind="malformed", route="events.list", count=1)
    report = run(sandbox, loader)
    assert report.table("invoices").new_columns == ("dunning_stage",)
    assert "dunning_stage" in str(report)
    new_events = world_events(world_copy, since=before["events"] + 1)
    touched = {e["data"]["object"]["id"] for e in new_events
               if e["data"]["object"]["object"] == "invoice"}
    assert touched and count(duckdb_warehouse, "invoices", "dunning_stage = 'first_notice'"
                             ) == len(touched)
    assert report.quarantined == 0
    assert report.http["retry_reasons"] == {"invalid JSON body": 1}
    assert report.table("events").loaded == len(new_events)
