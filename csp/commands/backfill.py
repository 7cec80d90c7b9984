"""`csp backfill`: rebuild the daily history (health, usage, touchpoints) of past dates."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from csp.cli import UserError, iso_date, settings_or_exit
from csp.commands.transform import print_transform

# The daily-history models: the incremental ones take the backfill window (their other days
# stay as they are); touchpoints are a table over the whole history, rebuilt with them.
DAILY_HISTORY = ("int_usage__account_daily", "int_usage__account_feature_daily",
                 "fct_account_health_daily", "fct_lifecycle_touchpoints")


def add_backfill(sub: Any) -> None:
    parser = sub.add_parser(
        "backfill", help="rebuild daily health and touchpoint history for past dates",
        description="Recomputes the daily models (usage, health, touchpoints) for the days "
                    "FROM..TO with the current models and data, leaving other days as they "
                    "are. Nothing is sent: activation does not run, so no alert goes out for "
                    "the past. Example: csp backfill --from 2025-01-01 --to 2025-06-30")
    parser.add_argument("--from", dest="first", type=iso_date, required=True,
                        metavar="YYYY-MM-DD", help="first day to rebuild")
    parser.add_argument("--to", dest="last", type=iso_date, required=True,
                        metavar="YYYY-MM-DD", help="last day to rebuild")
    parser.set_defaults(run=run_backfill)


def run_backfill(args: argparse.Namespace) -> int:
    settings_or_exit()
    if args.first > args.last:
        raise UserError(f"--from {args.first} is after --to {args.last}")
    if args.last > date.today():
        raise UserError(f"--to {args.last} is in the future: a backfill rebuilds past days")
    print(f"backfill {args.first}..{args.last}: {', '.join(DAILY_HISTORY)} (no alerts sent)")
    return print_transform(list(DAILY_HISTORY), False, None,
                           {"backfill_from": args.first.isoformat(),
                            "backfill_to": args.last.isoformat()})
