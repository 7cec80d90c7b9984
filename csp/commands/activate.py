"""`csp plan`, `csp apply`, `csp snooze`: activation from the command line.

`plan` writes what the marts call for into the outbox and prints the diff (a dry run: nothing
leaves the machine); `apply` asks the validation gate, then delivers what is pending;
`snooze` holds a rule (or all rules) for an account until a date.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from csp.cli import UserError, settings_or_exit


def add_activate(sub: Any) -> None:
    plan = sub.add_parser(
        "plan", help="write the Slack alerts and CRM writes the marts call for to the outbox",
        description="Reads the marts, applies config/alert_rules.yml, records new actions in "
                    "ops.outbox and prints what is new, held back, or already there. Sends "
                    "nothing. Example: csp plan --as-of 2026-10-31")
    plan.add_argument("--rules", type=Path, help="rules file (default config/alert_rules.yml)")
    plan.add_argument("--as-of", type=date.fromisoformat,
                      help="plan as of this day, YYYY-MM-DD (default: newest health day)")
    plan.set_defaults(run=run_plan_command)

    apply = sub.add_parser(
        "apply", help="deliver the outbox's pending actions (validation gate first)",
        description="Delivers each pending action exactly once. Refuses when the validation "
                    "gate does. Example: csp apply --override 'checked by hand, JIRA-12'")
    apply.add_argument("--override", metavar="REASON",
                       help="deliver although the gate refused; the reason is recorded")
    apply.add_argument("--rules", type=Path, help="rules file (default config/alert_rules.yml)")
    apply.set_defaults(run=run_apply_command)

    snooze = sub.add_parser(
        "snooze", help="hold alerts for an account until a date (or list/remove snoozes)",
        description="Example: csp snooze 11141911387 --rule renewal_at_risk --until "
                    "2026-12-01 --reason 'renewal call booked'; csp snooze --list")
    snooze.add_argument("account_id", nargs="?", help="the account (dim_accounts.account_id)")
    snooze.add_argument("--rule", default="*", help="one rule, or * for all (default)")
    snooze.add_argument("--until", type=date.fromisoformat, help="last snoozed day, YYYY-MM-DD")
    snooze.add_argument("--reason", default="", help="why (shown in the plan)")
    snooze.add_argument("--remove", action="store_true", help="remove the snooze")
    snooze.add_argument("--list", action="store_true", help="list active snoozes")
    snooze.set_defaults(run=run_snooze_command)


def run_plan_command(args: argparse.Namespace) -> int:
    from csp.activation.rules import DEFAULT_RULES_PATH, RulesError
    from csp.activation.service import run_plan
    from csp.activation.snapshot import SnapshotError
    from csp.warehouse import Warehouse

    settings = settings_or_exit()
    try:
        report = run_plan(Warehouse.from_settings(settings),
                          rules_path=args.rules or DEFAULT_RULES_PATH, as_of=args.as_of)
    except (RulesError, SnapshotError) as exc:
        raise UserError(str(exc)) from None
    print("\n".join(report.lines()))
    return 0


def run_apply_command(args: argparse.Namespace) -> int:
    from csp.activation.rules import DEFAULT_RULES_PATH, RulesError
    from csp.activation.service import ActivationConfigError, run_apply
    from csp.warehouse import Warehouse
    from expectations.gate import activation_gate

    settings = settings_or_exit()
    warehouse = Warehouse.from_settings(settings)
    gate = activation_gate(warehouse, override_reason=args.override)
    if not gate.allowed:
        print(f"apply refused: {gate.reason}")
        return 1
    print(f"validation gate: {gate.reason}")
    try:
        report = run_apply(warehouse, settings, rules_path=args.rules or DEFAULT_RULES_PATH)
    except (RulesError, ActivationConfigError) as exc:
        raise UserError(str(exc)) from None
    print("\n".join(report.lines()))
    return 1 if report.failed else 0


def run_snooze_command(args: argparse.Namespace) -> int:
    from csp.activation.outbox import ensure_outbox
    from csp.activation.rules import RULE_NAMES
    from csp.activation.service import open_db
    from csp.activation.suppression import list_snoozes, snooze, unsnooze
    from csp.warehouse import Warehouse

    if args.rule != "*" and args.rule not in RULE_NAMES:
        raise UserError(f"--rule {args.rule} is not a rule; use * or one of "
                        f"{', '.join(RULE_NAMES)}")
    if not args.list and not args.account_id:
        raise UserError("name an account_id, or use --list")
    if not (args.list or args.remove or args.until):
        raise UserError("--until YYYY-MM-DD is required to snooze")
    with open_db(Warehouse.from_settings(settings_or_exit())) as db:
        ensure_outbox(db)
        if args.remove:
            removed = unsnooze(db, args.account_id, args.rule)
            print(f"removed {removed} snooze(s) of {args.account_id} ({args.rule})")
        elif args.account_id and args.until:
            snooze(db, args.account_id, args.rule, args.until, args.reason)
            print(f"snoozed {args.account_id} ({args.rule}) until {args.until.isoformat()}")
        for row in list_snoozes(db) if args.list else ():
            print(f"{row['account_id']}\t{row['rule']}\t{row['snoozed_until']}\t"
                  f"{row['reason'] or ''}")
    return 0
