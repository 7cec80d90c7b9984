"""`csp validate`: run the Great Expectations suites (the `validate` flow); pass/fail per suite."""

from __future__ import annotations

import argparse
from typing import Any

from csp.cli import UserError, settings_or_exit


def add_validate(sub: Any) -> None:
    from expectations.contract import DOMAINS

    parser = sub.add_parser(
        "validate", help="check the raw layer and the marts (Great Expectations); gate activation",
        description="Runs the `validate` Prefect flow: every suite (raw sources, account "
                    "health, retention, expansion, activation inputs) with SQL pushdown on the "
                    "configured warehouse; records the verdict in ops.validation_runs (the "
                    "activation gate reads it), builds Data Docs, tells the data team on Slack "
                    "when a suite fails. Exit code 1 when any suite fails. "
                    "Example: csp validate --suite retention --param nrr_max=2.5")
    parser.add_argument("--suite", action="append", choices=DOMAINS, dest="suites",
                        help="a suite to run (repeatable; default: all)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=NUMBER",
                        help="override a threshold for this run (repeatable), e.g. "
                             "volume_min_ratio=0.3")
    parser.add_argument("--gx-dir", default=".csp/gx",
                        help="Great Expectations directory: results and Data Docs "
                             "(default: .csp/gx)")
    parser.add_argument("--no-notify", action="store_true",
                        help="do not post failures to the data team's Slack channel")
    parser.set_defaults(run=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    from expectations.parameters import ParameterError, parse_assignments, resolve

    settings = settings_or_exit()
    try:
        overrides = parse_assignments(args.param)
        resolve(settings.sources, overrides)
    except ParameterError as exc:
        raise UserError(str(exc)) from None
    return print_validate(args.suites, overrides, args.gx_dir, not args.no_notify)


def print_validate(suites: list[str] | None, overrides: dict[str, float], gx_dir: str,
                   notify: bool) -> int:
    """Run the flow, print one line per suite and each failure; 1 if any suite failed."""
    from flows.validate import validate

    result = validate(suites=suites, params=overrides, gx_dir=gx_dir, notify=notify,
                      raise_on_failure=False)
    for suite, success in result["suites"].items():
        print(f"{suite:<20} {'passed' if success else 'FAILED'}")
    print(f"run {result['run_id']}; Data Docs: {result['docs']}")
    return 0 if result["success"] else 1
