"""`csp report`: write the self-contained HTML report of the marts."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from csp.cli import UserError, iso_date, settings_or_exit
from csp.warehouse import Warehouse

DEFAULT_REPORT = Path("reports/customer_success_report.html")


def add_report(sub: Any) -> None:
    parser = sub.add_parser(
        "report", help="write the HTML report (MRR, retention, health, renewals, alerts)",
        description="Reads the marts of the configured warehouse and writes one self-contained "
                    "HTML file (inline charts, no network needed to open it). "
                    "Example: csp report --out /tmp/cs.html --as-of 2026-10-31")
    parser.add_argument("--out", type=Path, default=DEFAULT_REPORT,
                        help=f"where to write it (default {DEFAULT_REPORT})")
    parser.add_argument("--as-of", type=iso_date, default=None,
                        help="report date, YYYY-MM-DD (default: the newest health day)")
    parser.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    from csp.report import build_report

    warehouse = Warehouse.from_settings(settings_or_exit())
    if warehouse.engine == "duckdb" and not warehouse.duckdb_path.exists():
        raise UserError(f"no warehouse at {warehouse.duckdb_path}: run `csp ingest` and "
                        f"`csp transform` first (or `csp demo`)")
    result = build_report(warehouse, args.out, args.as_of)
    print(f"report written to {result.path.resolve()} (as of {result.as_of or 'n/a'})")
    for panel, reason in result.missing.items():
        print(f"  {panel}: not available ({reason})")
    return 0
