"""`csp backfill`: past days of the daily history are rebuilt, later days and deliveries are
left alone."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from csp.cli import main
from csp.warehouse import Warehouse
from tests.csp.test_cli import run_csp
from tests.dbt_fixtures import BuiltWarehouse
from tests.integrations.echo_vendor import query

SCORES = ("select account_id, date, health_score from marts.fct_account_health_daily "
          "where date between '{0}' and '{1}' order by 1, 2")


@pytest.fixture
def built_copy(built_duckdb: BuiltWarehouse, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    target = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_duckdb.warehouse.duckdb_path, target)
    monkeypatch.setenv("CSP_DUCKDB_PATH", str(target))
    return Warehouse("duckdb", target)


def test_rebuilds_the_range_and_leaves_later_days_and_deliveries_alone(
        prefect: None, built_copy: Warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    newest = query(built_copy, "select max(date) from marts.fct_account_health_daily")[0][0]
    first, last, later = (newest - timedelta(days=20), newest - timedelta(days=10),
                          newest - timedelta(days=5))
    original = query(built_copy, SCORES.format(first, last))
    assert original
    query(built_copy, "update marts.fct_account_health_daily set health_score = -1 "
                      f"where date between '{first}' and '{later}'")

    assert main(["backfill", "--from", str(first), "--to", str(last)]) == 0
    assert "(no alerts sent)" in capsys.readouterr().out

    assert query(built_copy, SCORES.format(first, last)) == original
    untouched = query(built_copy, "select distinct health_score from "
                                  "marts.fct_account_health_daily where date > "
                                  f"'{last}' and date <= '{later}'")
    assert untouched == [(-1,)]
    outbox = query(built_copy, "select count(*) from information_schema.tables "
                               "where table_schema = 'ops' and table_name = 'outbox'")
    assert outbox == [(0,)]


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "2025-06-30", "--to", "2025-01-01"), "--from 2025-06-30 is after --to 2025-01-01"),
    (("--from", "2025-01-01", "--to", str(date.today() + timedelta(days=1))), "is in the future"),
    (("--from", "2025-13-01", "--to", "2025-01-01"), "'2025-13-01' is not a date"),
])
def test_bad_ranges_are_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run_csp("backfill", *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
