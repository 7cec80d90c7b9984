"""`csp`: the command line of Customer Success Pipelines.

User mistakes (a bad setting, a missing world, a bad fixture) end in one line on stderr and
exit code 2; only a bug shows a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from csp.settings import SettingsError, load_settings

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except UserError as exc:
        print(f"csp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


class UserError(Exception):
    """Something the user can fix; printed as one line."""


def build_parser() -> argparse.ArgumentParser:
    from csp import commands

    parser = argparse.ArgumentParser(
        prog="csp",
        description="Customer Success Pipelines: CRM, billing, support and usage data into "
                    "health, retention and expansion marts, acted on in Slack and the CRM.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    # In the order a data engineer meets them: try it, run it, its stages, then the tools.
    for add in (commands.add_demo, commands.add_run, commands.add_sandbox, commands.add_ingest,
                commands.add_transform, commands.add_validate, commands.add_activate,
                commands.add_backfill, commands.add_report, commands.add_doctor,
                commands.add_config):
        add(sub)
    return parser


def iso_date(text: str) -> date:
    """An argparse type for YYYY-MM-DD options, with a message naming the bad value."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def settings_or_exit():  # type: ignore[no-untyped-def]
    """The validated settings, or a UserError naming the bad variable."""
    try:
        return load_settings(dotenv=Path(".env"))
    except SettingsError as exc:
        raise UserError(str(exc)) from None
