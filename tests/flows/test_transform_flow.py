"""The transform flow under real Prefect: real dbt on a private copy of the ingested raw layer,
per-node results returned and published, failures named in one line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from prefect.artifacts import Artifact

from csp.warehouse import Warehouse
from flows.transform import TransformFailed, transform
from tests.integrations.echo_vendor import query

# The daily spine and what it reads: small, but models, views and tests all take part.
SELECTION = ["+int_dates"]



@pytest.fixture
def configured(duckdb_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    """Settings pointing the flow at a private DuckDB copy of the raw layer."""
    monkeypatch.setenv("CSP_DUCKDB_PATH", str(duckdb_warehouse.duckdb_path))
    return duckdb_warehouse


def test_builds_the_selection_and_reports_every_node(prefect: None, configured: Warehouse,
                                                      tmp_path: Path) -> None:
    result = transform(select=SELECTION, target_dir=str(tmp_path / "dbt"))
    assert result["success"] and result["error"] is None
    nodes = {node["name"]: node for node in result["nodes"]}
    spine = nodes["int_dates"]
    assert spine["resource_type"] == "model" and spine["status"] == "success"
    assert any(node["resource_type"] == "test" and node["status"] == "pass"
               for node in nodes.values())
    assert all(node["execution_time"] >= 0 for node in nodes.values())
    assert query(configured, "select count(*) from intermediate.int_dates")[0][0] > 0
    artifact = Artifact.get("transform-nodes")
    assert artifact is not None and "int_dates" in str(artifact.data)
    assert "models: " in (artifact.description or "")


def test_a_failing_model_fails_the_flow_naming_the_node(prefect: None, configured: Warehouse,
                                                         tmp_path: Path) -> None:
    # An as-of day that is not a date: every model that reads it fails in the warehouse.
    with pytest.raises(TransformFailed) as failed:
        transform(select=SELECTION, dbt_vars={"as_of_date": "not-a-day"},
                  target_dir=str(tmp_path / "dbt"))
    message = str(failed.value)
    assert message.startswith("dbt build failed on 1 node(s): int_dates: ")
    assert "\n" not in message
    assert [node.name for node in failed.value.run.failed_nodes] == ["int_dates"]


def test_as_of_date_stops_the_daily_spine(prefect: None, configured: Warehouse,
                                          tmp_path: Path) -> None:
    transform(select=SELECTION, as_of_date=date(2026, 9, 30),
              target_dir=str(tmp_path / "dbt"))
    assert query(configured, "select max(date) from intermediate.int_dates") == [
        (date(2026, 9, 30),)]
