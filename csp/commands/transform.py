"""`csp transform`: build the marts with dbt (the `transform` flow) and summarise the run."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from csp.cli import iso_date, settings_or_exit


def add_transform(sub: Any) -> None:
    parser = sub.add_parser(
        "transform", help="build and test the marts with dbt (dbt build)",
        description="Runs the `transform` Prefect flow: `dbt build` of the dbt project (seeds, "
                    "models, tests) on the configured warehouse, then prints models built, "
                    "tests passed and failed, and the time taken. "
                    "Example: csp transform --select +fct_account_health_daily")
    parser.add_argument("--select", "-s", action="append", dest="select", metavar="SELECTOR",
                        help="dbt node selection (repeatable; default: the whole project)")
    parser.add_argument("--full-refresh", action="store_true",
                        help="rebuild incremental models from scratch")
    parser.add_argument("--as-of", type=iso_date, default=None, metavar="YYYY-MM-DD",
                        help="build daily history up to this day (default: newest data)")
    parser.set_defaults(run=run_transform)


def run_transform(args: argparse.Namespace) -> int:
    settings_or_exit()
    return print_transform(args.select, args.full_refresh, args.as_of)


def print_transform(select: list[str] | None, full_refresh: bool, as_of: date | None,
                    dbt_vars: dict[str, Any] | None = None) -> int:
    """Run the transform flow and print its summary; 1 if dbt or any node failed."""
    from csp.dbt_runner import DbtRun
    from flows.transform import TransformFailed, transform

    try:
        run = DbtRun.from_dict(transform(select=select, full_refresh=full_refresh,
                                         as_of_date=as_of, dbt_vars=dbt_vars))
    except TransformFailed as exc:
        for line in exc.run.summary_lines():
            print(f"  {line}")
        print(f"transform failed: {exc}")
        return 1
    print("transform: dbt build succeeded")
    for line in run.summary_lines():
        print(f"  {line}")
    return 0
