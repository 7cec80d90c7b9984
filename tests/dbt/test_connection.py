"""dbt reaches the configured warehouse on both engines through `profiles.yml`."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner

from csp.settings import load_settings
from csp.warehouse import Warehouse

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_dbt_debug_connects(engine: str, request: pytest.FixtureRequest,
                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {"CSP_DUCKDB_PATH": str(tmp_path / "wh.duckdb")}
    if engine == "postgres":
        env["CSP_POSTGRES_DSN"] = request.getfixturevalue("postgres_dsn")
    warehouse = Warehouse.from_settings(load_settings(env))
    assert warehouse.engine == engine
    for name, value in warehouse.dbt_env().items():
        monkeypatch.setenv(name, value)
    result = dbtRunner().invoke(["debug", "--project-dir", str(PROJECT), "--profiles-dir",
                                 str(PROJECT), "--log-path", str(tmp_path / "logs")])
    assert result.success, result.exception
