"""The ingest flows under real Prefect, against the sandbox, into real warehouses.

The flows only read the sandbox, so every test shares one server over the session's tiny
world (what is proved here is the orchestration; volumes are the sources' own tests).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from csp.settings import SOURCES
from flows.ingest import IngestFailed, ingest, ingest_source
from integrations.sandbox.server import SandboxServer
from integrations.sources import FACTORIES

ALL_SOURCES = ["hubspot", "salesforce", "stripe", "zendesk", "product"]



@pytest.fixture
def sandbox_env(tiny_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch,
                tmp_path: Path) -> Path:
    """Settings pointing every source at the running sandbox; returns the DuckDB path."""
    monkeypatch.setenv("CSP_SOURCES", ",".join(ALL_SOURCES))
    for name in (*ALL_SOURCES, "slack"):
        monkeypatch.setenv(f"CSP_{name.upper()}_BASE_URL", tiny_sandbox.url(name))
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("CSP_DUCKDB_PATH", str(path))
    return path


def test_every_configurable_source_has_a_factory() -> None:
    assert set(FACTORIES) == set(SOURCES)


def raw_tables(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as conn:
        names = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'raw_%' and table_name not like '_dlt%'").fetchall()
        return {f"{schema}.{table}": conn.execute(
            f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            for schema, table in names}


def test_all_sources_load_concurrently(prefect: None, sandbox_env: Path) -> None:
    results = ingest()
    assert sorted(results) == sorted(ALL_SOURCES)
    counts = raw_tables(sandbox_env)
    for source in ALL_SOURCES:
        assert any(name.startswith(f"raw_{source}.") and rows > 0
                   for name, rows in counts.items()), source
    again = ingest()
    assert all(report["tables"] == [] or sum(t["loaded"] for t in report["tables"]) == 0
               for report in again.values()), again


def test_wrong_credentials_fail_one_source_in_one_line_and_the_rest_load(
        prefect: None, sandbox_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSP_STRIPE_API_KEY", "sk_test_WRONG-KEY-123")
    with pytest.raises(IngestFailed) as failed:
        ingest(sources=["stripe", "zendesk", "salesforce"])
    message = str(failed.value)
    assert message.startswith("stripe: ")
    assert "\n" not in message
    assert "WRONG-KEY" not in message
    assert "zendesk" not in message and "salesforce" not in message
    counts = raw_tables(sandbox_env)
    assert any(name.startswith("raw_zendesk.") and n > 0 for name, n in counts.items())
    assert not any(name.startswith("raw_stripe.") and n > 0 for name, n in counts.items())


def test_one_source_flow_publishes_its_report(prefect: None, sandbox_env: Path) -> None:
    report = ingest_source("zendesk")
    assert report["dataset"] == "raw_zendesk"
    assert sum(t["loaded"] for t in report["tables"]) > 0
