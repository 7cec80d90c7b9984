"""`csp report`: every panel renders from the marts, gaps are explained, Chromium shows it.

The marts here are hand-built with the public column names of DESIGN.md §6 and known values,
so each chart can be checked for the numbers it must show; the end-to-end test renders the
report from marts that dbt built.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest

from csp.cli import main
from csp.report import build_report
from csp.report.svg import money, nice_ticks
from csp.settings import load_settings
from csp.warehouse import Warehouse

MARTS = """
create schema marts;
create table marts.retention_monthly as select * from (values
  ('all', date '2026-08-01', 100000.0, 5000.0, 2000.0, 1000.0, 1500.0, 3000.0, 103500.0,
   0.975, 0.955, 1.04, 0.91),
  ('all', date '2026-09-01', 103500.0, 4000.0, 3000.0, 0.0, 500.0, 1000.0, 109000.0,
   1.0145, 0.9855, 1.05, 0.92),
  ('smb', date '2026-09-01', 50000.0, 4000.0, 0.0, 0.0, 0.0, 0.0, 54000.0, 1.0, 1.0, null, null)
) as t(segment, month, mrr_start, mrr_new, mrr_expansion, mrr_reactivation, mrr_contraction,
       mrr_churned, mrr_end, nrr, grr, nrr_trailing_12m, grr_trailing_12m);
create table marts.cohort_retention as select * from (values
  (date '2026-08-01', 0, 'all', 4, 1.0, 1.0), (date '2026-08-01', 1, 'all', 4, 0.75, 0.8),
  (date '2026-09-01', 0, 'all', 2, 1.0, 1.0)
) as t(cohort_month, months_since_start, segment, accounts_start, logo_retention,
       revenue_retention);
create table marts.dim_accounts as select * from (values
  ('a1', 'Acme', 'enterprise', 'csm1', 'ann@corp.test', 150000.0, date '2026-11-20'),
  ('a2', 'Brio', 'smb', 'csm1', 'ann@corp.test', 12000.0, date '2027-06-01'),
  ('a3', 'Cato', 'smb', 'csm2', 'bob@corp.test', 9000.0, date '2026-12-15')
) as t(account_id, name, segment, csm_id, csm_email, arr, renewal_date);
create table marts.fct_account_health_daily as select * from (values
  ('a1', date '2026-10-31', 55.0, 'critical'), ('a2', date '2026-10-31', 80.0, 'healthy'),
  ('a3', date '2026-10-31', 65.0, 'at_risk'), ('a1', date '2026-10-30', 70.0, 'at_risk')
) as t(account_id, date, health_score, health_band);
create table marts.health_backtest as select * from (values
  (date '2026-07-01', 'healthy', 10, 0, 0.0, 0.8), (date '2026-07-01', 'critical', 4, 2, 0.5, 0.8),
  (date '2026-08-01', 'healthy', 10, 1, 0.1, 0.7), (date '2026-08-01', 'critical', 4, 2, 0.5, 0.7)
) as t(month, health_band, accounts, churned_90d, churn_rate_90d, auc);
create table marts.csm_book_of_business as select * from (values
  ('csm1', date '2026-10-31', 2, 162000.0, 150000.0, 1),
  ('csm2', date '2026-10-31', 1, 9000.0, 9000.0, 1)
) as t(csm_id, date, accounts, arr, at_risk_arr, renewals_due_90d);
"""


@pytest.fixture
def marts_warehouse(tmp_path: Path) -> Warehouse:
    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute(MARTS)
    return Warehouse.from_settings(load_settings({"CSP_DUCKDB_PATH": str(path)}))


def test_every_chart_shows_the_marts_numbers(marts_warehouse: Warehouse, tmp_path: Path) -> None:
    result = build_report(marts_warehouse, tmp_path / "report.html")
    html = result.path.read_text()

    assert result.as_of == date(2026, 10, 31)
    for panel in ("mrr-waterfall", "nrr-grr", "cohort-retention", "health-distribution",
                  "health-backtest", "csm-at-risk", "renewals", "alerts"):
        assert f"id='{panel}'" in html
    assert html.count("<svg") == 6
    assert "Sep 26 churn $1.0k" in html and "Aug 26 new $5.0k" in html     # waterfall
    assert "Sep 26 NRR, trailing 12m 105%" in html                          # trend
    assert "Aug 26 +1: 80%" in html                                         # cohort cell
    assert "enterprise critical: 1 (100%)" in html                          # distribution
    assert "critical churned within 90 days 50%" in html                    # 4 of 8 pooled
    assert "ann at-risk ARR $150k" in html
    # Renewals in the 90 days after 2026-10-31: Acme and Cato, not Brio (June 2027).
    renewals = html.split("id='renewals'")[1].split("</section>")[0]
    assert "Acme" in renewals and "Cato" in renewals and "Brio" not in renewals
    # Activation has not run: the panel says which mart is missing instead of failing.
    assert result.missing["deliveries"] == "ops.outbox not built yet"
    assert "Not available: marts.fct_save_outcomes not built yet" in html


def test_a_warehouse_without_marts_still_gives_a_page_that_says_why(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    warehouse = Warehouse.from_settings(load_settings({"CSP_DUCKDB_PATH": str(path)}))
    result = build_report(warehouse, tmp_path / "r.html")
    assert result.as_of is None
    assert set(result.missing) == {"retention", "cohorts", "health_by_segment", "backtest",
                                   "csm_book", "renewals", "save_outcomes", "deliveries"}
    assert "<svg" not in result.path.read_text()


def test_cli_writes_the_report_and_names_a_missing_warehouse(
        marts_warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CSP_DUCKDB_PATH", str(marts_warehouse.duckdb_path))
    out = tmp_path / "out" / "cs.html"
    assert main(["report", "--out", str(out), "--as-of", "2026-10-31"]) == 0
    assert out.exists() and "report written to" in capsys.readouterr().out

    monkeypatch.setenv("CSP_DUCKDB_PATH", str(tmp_path / "nowhere.duckdb"))
    assert main(["report", "--out", str(out)]) == 2
    assert "no warehouse at" in capsys.readouterr().err
    with pytest.raises(SystemExit) as bad_date:
        main(["report", "--as-of", "31/10/2026"])
    assert bad_date.value.code == 2
    assert "'31/10/2026' is not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_axis_helpers() -> None:
    assert nice_ticks(0, 95) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(0.9, 1.06)[0] <= 0.9 and nice_ticks(0.9, 1.06)[-1] >= 1.06
    assert [money(v) for v in (840, 1500, 395_254, 4_700_000)] == ["$840", "$1.5k", "$395k",
                                                                    "$4.7M"]


def chromium_binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    return found


def test_report_renders_in_headless_chromium(marts_warehouse: Warehouse, tmp_path: Path) -> None:
    browser = chromium_binary()
    report = build_report(marts_warehouse, tmp_path / "report.html").path
    shot = tmp_path / "report.png"
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    done = subprocess.run([*common, f"--screenshot={shot}", "--window-size=900,2600",
                           report.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 30_000, done.stderr[-2000:]
    assert not re.search(r"CONSOLE\(\d+\).*(error|Error)", done.stderr)
    dom = subprocess.run([*common, "--dump-dom", report.as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    assert dom.count("<svg") == 6 and dom.count("class=\"panel\"") == 8
