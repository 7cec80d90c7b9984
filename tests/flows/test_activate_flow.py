"""The activate flow under real Prefect: the validation gate refuses unvalidated marts (nothing
sent, the reason in the failure); an operator override delivers; a re-run sends nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from csp.activation.db import Db
from csp.activation.outbox import counts
from csp.warehouse import Warehouse
from flows.activate import ActivationRefused, activate
from integrations.sandbox.server import SandboxServer
from tests.activation.conftest import TEST_RATE_LIMITS, pushed_counts, sandbox_env
from tests.activation.mart_fixtures import scenario_warehouse_at, world_accounts
from tests.activation.test_delivery import EXPECTED


@pytest.fixture
def activation_sandbox(world_copy: Path) -> Iterator[SandboxServer]:
    with SandboxServer(world_copy, rate_limits=TEST_RATE_LIMITS) as server:
        yield server


@pytest.fixture
def scenario_warehouse(tmp_path: Path, small_world: Path) -> Warehouse:
    return scenario_warehouse_at(tmp_path / "activation.duckdb", world_accounts(small_world))


@pytest.fixture
def flow_env(monkeypatch: pytest.MonkeyPatch, activation_sandbox: SandboxServer,
             scenario_warehouse: Warehouse) -> None:
    for name, value in sandbox_env(activation_sandbox, scenario_warehouse).items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("prefect", "flow_env")
def test_gate_refuses_then_override_delivers_once(activation_sandbox: SandboxServer,
                                                  scenario_warehouse: Warehouse) -> None:
    with pytest.raises(ActivationRefused, match="refused by the validation gate: .*valid"):
        activate()
    assert sum(pushed_counts(activation_sandbox).values()) == 0
    conn = scenario_warehouse.connect()
    try:
        assert not Db(conn, "duckdb").table_exists("ops.outbox"), "refused before planning"
    finally:
        conn.close()

    result = activate(override_reason="flow test: marts checked by hand")
    assert "flow test: marts checked by hand" in result["gate"]
    assert result["plan"]["new_by_kind"] == {"slack": 11, "crm_task": 5, "crm_field": 10}
    assert result["apply"]["sent_total"] == 26 and result["apply"]["failed"] == 0
    assert pushed_counts(activation_sandbox) == EXPECTED

    again = activate(override_reason="flow test: marts checked by hand")
    assert again["plan"]["new"] == 0 and again["apply"]["sent_total"] == 0
    assert pushed_counts(activation_sandbox) == EXPECTED
    conn = scenario_warehouse.connect()
    try:
        assert counts(Db(conn, "duckdb")) == {"sent": 26, "suppressed": 4}
    finally:
        conn.close()
