"""`csp doctor`: check every configured connection and credential, say what to fix."""

from __future__ import annotations

import argparse
from typing import Any

from csp.cli import settings_or_exit


def add_doctor(sub: Any) -> None:
    parser = sub.add_parser(
        "doctor", help="check the warehouse and every vendor credential (OK or what to fix)",
        description="Opens the warehouse and makes one read-only authenticated call per "
                    "configured vendor; prints OK or the exact setting to fix for each, and "
                    "exits 1 if anything needs fixing. Example: CSP_MODE=production csp doctor")
    parser.set_defaults(run=run_doctor_command)


def run_doctor_command(args: argparse.Namespace) -> int:
    from csp.doctor import run_doctor

    checks = run_doctor(settings_or_exit())
    width = max(len(check.item) for check in checks)
    for check in checks:
        print(f"{'OK  ' if check.ok else 'FIX '} {check.item:<{width}}  {check.detail}")
    failing = sum(not check.ok for check in checks)
    print(f"\n{len(checks) - failing} of {len(checks)} OK" + (f"; {failing} to fix" if failing
                                                               else ""))
    return 1 if failing else 0
