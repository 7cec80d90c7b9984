"""Helpers for the Stripe source tests: run the source, read raw tables back, change the world.

Raw tables are compared as the warehouse holds them, minus what differs by construction
between two loads of the same data: dlt's bookkeeping columns (`_dlt_*`, random row ids) and
this source's lineage columns (`_csp_*`, which say whether a list or an event wrote the row).
Nested rows are keyed by their root object's id and their list positions, so a child table
compares by content, not by dlt's row ids.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from csp.settings import VendorConfig, load_settings
from csp.warehouse import Warehouse
from integrations.http import RetryPolicy, VendorSession, create_session
from integrations.loader import LoadReport, WarehouseLoader
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.store import VendorObject, WorldReader, WorldWriter
from integrations.sandbox.vendors.stripe_events import Change, event_object
from integrations.stripe import stripe_source
from integrations.stripe.settings import OBJECT_KINDS
from tests.integrations.raw_tables import dict_rows as rows

FAST = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)
KINDS = tuple(kind.table for kind in OBJECT_KINDS)
DATASET = "raw_stripe"
RETENTION_SECONDS = 30 * 86_400

Snapshot = dict[str, Counter[tuple[Any, ...]]]


def stripe_config(server: SandboxServer, **env: str) -> VendorConfig:
    """The settings a run against this sandbox gets (sandbox credentials by default)."""
    return load_settings({"CSP_STRIPE_BASE_URL": server.url("stripe"), **env}
                         ).vendors["stripe"]


def stripe_session(config: VendorConfig, **options: Any) -> VendorSession:
    return create_session("stripe", rate_limit=config.rate_limit,
                          retry=options.pop("retry", FAST), **options)


def run(server: SandboxServer, loader: WarehouseLoader, *, session: VendorSession | None = None,
        env: dict[str, str] | None = None, full_refresh: bool = False,
        **tuning: int) -> LoadReport:
    """One run of the Stripe source into the loader's warehouse; the report is printed."""
    config = stripe_config(server, **(env or {}))
    http = session or stripe_session(config)
    report = loader.load(stripe_source(config, session=http, **tuning),
                         full_refresh=full_refresh, http_stats=http.stats.snapshot)
    print(report)
    return report


def raw_tables(warehouse: Warehouse) -> list[str]:
    """The data tables of `raw_stripe` (no dlt bookkeeping, no quarantine)."""
    found = rows(warehouse, f"select table_name from information_schema.tables "
                            f"where table_schema = '{DATASET}'")
    return sorted(r["table_name"] for r in found
                  if not r["table_name"].startswith("_"))


def _plain(value: Any) -> Any:
    """One comparable form of a value on either engine (JSON as text, sorted)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


def snapshot(warehouse: Warehouse, tables: list[str] | None = None) -> Snapshot:
    """Every table's rows as a multiset of (object path, non-null business columns)."""
    names = tables or raw_tables(warehouse)
    paths: dict[str, tuple[Any, ...]] = {}
    result: Snapshot = {}
    for table in sorted(names, key=lambda name: name.count("__")):
        counted: Counter[tuple[Any, ...]] = Counter()
        for row in rows(warehouse, f"select * from {DATASET}.{table}"):
            if "__" in table:
                path = (*paths[row["_dlt_parent_id"]], row["_dlt_list_idx"])
            else:
                path = (row["id"],)
            paths[row["_dlt_id"]] = path
            values = tuple(sorted((name, _plain(value)) for name, value in row.items()
                                  if value is not None and not name.startswith(("_dlt_",
                                                                                "_csp_"))))
            counted[(path, values)] += 1
        result[table] = counted
    return result


def world_events(world: Path, *, since: float = 0.0) -> list[dict[str, Any]]:
    """Stripe events of the world created at or after `since`, oldest first."""
    reader = WorldReader(world)
    return [event for event in reader.iter_events("stripe") if event["created"] >= since]


def retention_start(world: Path) -> float:
    """The oldest `created` the sandbox still serves (30 days before its clock's next day)."""
    from datetime import UTC, date, datetime, timedelta

    clock = date.fromisoformat(WorldReader(world).meta("clock"))
    end = datetime.combine(clock + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return end.timestamp() - RETENTION_SECONDS


class WorldEdit:
    """Changes a world the way Stripe would show them: the object, and the event announcing it."""

    def __init__(self, world: Path) -> None:
        self.world = world
        self.reader = WorldReader(world)
        last = self.reader.events("stripe", limit=1)[0][1]
        self.at = last["created"] + 60

    def get(self, kind: str, object_id: str) -> dict[str, Any]:
        found = self.reader.get("stripe", kind, object_id)
        assert found is not None, f"{kind} {object_id} is not in the world"
        return found

    def save(self, kind: str, body: dict[str, Any], event_type: str, *,
             deleted: bool = False) -> dict[str, Any]:
        """Store `body` (hidden from lists when `deleted`) and append its event."""
        previous = self.reader.get("stripe", kind, body["id"])
        self.at += 1
        writer = WorldWriter(self.world)
        try:
            event = event_object(event_type, Change(kind, previous, body), self.at,
                                 writer.sink.next_event_seq())
            writer.put_vendor_object(VendorObject("stripe", kind, body["id"],
                                                  created=body["created"], updated=self.at,
                                                  body=body, deleted=deleted))
            writer.sink.append_event("stripe", event["id"], event_type, event["created"],
                                     event)
        finally:
            writer.close()
        return event


@pytest.fixture(scope="module")
def shared_sandbox(small_world: Path) -> Iterator[SandboxServer]:
    """A sandbox over the session's read-only small world, for tests that only read."""
    with SandboxServer(small_world) as server:
        yield server
