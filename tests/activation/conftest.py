"""Activation fixtures: the scenario marts in a real DuckDB file, and a sandbox to deliver to.

The marts hold the session world's own companies and owners (tests/world_fixtures.py), so
planned tasks and messages are accepted by the sandbox serving a copy of that world.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from csp.activation.db import Db
from csp.activation.rules import RuleBook, load_rules
from csp.settings import Settings, load_settings
from csp.warehouse import Warehouse
from integrations.rate_window import RateLimit
from integrations.sandbox.server import SandboxServer
from tests.activation.mart_fixtures import WorldAccount, scenario_warehouse_at, world_accounts

# Fast enough that tests do not wait on Slack's one-message-per-second-per-channel.
TEST_RATE_LIMITS = {"slack": RateLimit(50, 1.0), "hubspot": RateLimit(100, 1.0)}


@pytest.fixture(scope="session")
def accounts(small_world: Path) -> list[WorldAccount]:
    return world_accounts(small_world)


@pytest.fixture
def rules() -> RuleBook:
    return load_rules()


@pytest.fixture
def scenario_warehouse(tmp_path: Path, accounts: list[WorldAccount]) -> Warehouse:
    """A DuckDB warehouse holding the scenario marts (one account per rule)."""
    return scenario_warehouse_at(tmp_path / "activation.duckdb", accounts)


@pytest.fixture
def db(scenario_warehouse: Warehouse) -> Iterator[Db]:
    conn = scenario_warehouse.connect()
    try:
        yield Db(conn, "duckdb")
    finally:
        conn.close()


@pytest.fixture
def activation_sandbox(world_copy: Path) -> Iterator[SandboxServer]:
    with SandboxServer(world_copy, rate_limits=TEST_RATE_LIMITS) as server:
        yield server


def sandbox_env(server: SandboxServer, warehouse: Warehouse) -> dict[str, str]:
    """Settings variables pointing activation at `server` and `warehouse`."""
    return {"CSP_SLACK_BASE_URL": server.url("slack"),
            "CSP_HUBSPOT_BASE_URL": server.url("hubspot"),
            "CSP_SLACK_RATE_LIMIT": "50/1", "CSP_HUBSPOT_RATE_LIMIT": "100/1",
            "CSP_DUCKDB_PATH": str(warehouse.duckdb_path)}


def sandbox_settings(server: SandboxServer, warehouse: Warehouse) -> Settings:
    return load_settings(sandbox_env(server, warehouse))


@pytest.fixture
def settings(activation_sandbox: SandboxServer, scenario_warehouse: Warehouse) -> Settings:
    return sandbox_settings(activation_sandbox, scenario_warehouse)


def control(server: SandboxServer, method: str, path: str,
            body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{server.base_url}/_sandbox{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return dict(json.load(response))


def pushed(server: SandboxServer) -> list[dict[str, Any]]:
    """What the sandbox received (Slack messages, HubSpot task and company writes)."""
    return list(control(server, "GET", "/pushed")["pushed"])


def pushed_counts(server: SandboxServer) -> Counter[str]:
    return Counter(f"{p['vendor']}.{p['kind']}" for p in pushed(server))


def messages_per_key(server: SandboxServer) -> Counter[str]:
    """Slack messages received per outbox key (from the metadata each carries)."""
    return Counter(p["body"]["metadata"]["event_payload"]["outbox_key"]
                   for p in pushed(server) if p["vendor"] == "slack")


def tasks_per_key(server: SandboxServer) -> Counter[str]:
    """HubSpot tasks that exist per external key (created, not merely re-sent)."""
    return Counter(p["key"] for p in pushed(server)
                   if p["vendor"] == "hubspot" and p["kind"] == "task" and p["body"]["created"])
