"""`csp report`: one self-contained HTML page of the marts for CS leaders.

It reads the public marts (and the activation outbox) from the configured warehouse and
writes a single HTML file with inline SVG charts and inline styles: no script, no network,
so it opens anywhere — a browser, a mail attachment, a file share.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from csp.report.data import ReportData, read_report_data
from csp.report.page import render_report
from csp.warehouse import Warehouse


@dataclass(frozen=True)
class ReportResult:
    """Where the report went, its date, and the panels that had nothing to show and why."""

    path: Path
    as_of: date | None
    missing: dict[str, str]


def build_report(warehouse: Warehouse, out: Path, as_of: date | None = None) -> ReportResult:
    """Read the marts, render the page, write it to `out` (parents created)."""
    with closing(warehouse.connect()) as conn:
        data: ReportData = read_report_data(conn, as_of)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(data, generated), encoding="utf-8")
    return ReportResult(out, data.as_of, data.missing)
