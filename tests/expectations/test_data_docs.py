"""Data Docs: static HTML that lists every suite and opens in headless Chromium.

GX's pages take Bootstrap and jQuery from public CDNs; offline (as here) the index's suite
table, which those scripts draw, stays empty, while each validation page is plain HTML and
renders (unstyled). So the index is checked for a link to every suite's results, and a
validation page is rendered and photographed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from expectations.contract import DOMAINS
from tests.expectations.conftest import Validated

CHROMIUM = shutil.which("chromium") or "chromium"


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--virtual-time-budget=5000", *args],
                          capture_output=True, text=True, timeout=180, check=True)


def test_the_index_links_every_suites_results(clean_duckdb: Validated) -> None:
    html = clean_duckdb.run.docs_index.read_text(encoding="utf-8")
    for domain in DOMAINS:
        assert f"validations/{domain}/" in html, domain


def test_a_validation_page_renders_in_chromium(clean_duckdb: Validated, tmp_path: Path) -> None:
    site = clean_duckdb.run.docs_index.parent
    (page,) = (site / "validations" / "account_health" / "fct_account_health_daily"
               / "clean").glob("*/*.html")          # filed under the recorded run id
    dom = chromium("--dump-dom", page.as_uri()).stdout
    assert "Expectation Suite:" in dom and "account_health.fct_account_health_daily" in dom
    assert "health_score" in dom and "clean" in dom
    screenshot = tmp_path / "data_docs.png"
    chromium("--window-size=1400,1000", f"--screenshot={screenshot}", page.as_uri())
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 40_000                       # a page of text, not a blank canvas
