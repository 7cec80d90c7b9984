"""`csp transform` as a user meets it: a readable per-stage summary, exit 1 naming the failed
node, exit 2 with one line for a bad argument."""

from __future__ import annotations

import pytest

from csp.cli import main
from csp.warehouse import Warehouse
from tests.csp.test_cli import run_csp
from tests.integrations.echo_vendor import query

SELECTION = "+int_dates"


@pytest.fixture
def configured(duckdb_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setenv("CSP_DUCKDB_PATH", str(duckdb_warehouse.duckdb_path))
    return duckdb_warehouse


def test_prints_models_built_tests_passed_and_elapsed(prefect: None, configured: Warehouse,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transform", "--select", SELECTION]) == 0
    out = capsys.readouterr().out
    assert "transform: dbt build succeeded" in out
    lines = [line.strip() for line in out.splitlines()]
    assert any(line.startswith("models: ") and " built" in line for line in lines), out
    assert any(line.startswith("tests: ") and " passed" in line for line in lines), out
    assert any(line.startswith("elapsed: ") for line in lines), out


def test_a_missing_source_table_exits_1_naming_the_node(prefect: None, configured: Warehouse,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    query(configured, "drop table raw_product.usage_events")
    assert main(["transform", "--select", SELECTION]) == 1
    out = capsys.readouterr().out
    failure = [line for line in out.splitlines() if line.startswith("transform failed: ")]
    # The source's own tests fail first, naming the missing table; what reads it is skipped.
    assert failure, out
    assert "source_not_null_product_usage_events_event_id: " in failure[0]
    assert "usage_events does not exist" in failure[0]
    assert any("skipped" in line for line in out.splitlines() if "models: " in line), out


def test_a_bad_as_of_date_is_one_line_and_exit_2() -> None:
    result = run_csp("transform", "--as-of", "2026-02-30")
    assert result.returncode == 2
    assert "--as-of: '2026-02-30' is not a date (YYYY-MM-DD)" in result.stderr
    assert "Traceback" not in result.stderr
