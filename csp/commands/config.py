"""`csp config`: show the settings a run would use, secrets masked."""

from __future__ import annotations

import argparse
from typing import Any

from csp.cli import settings_or_exit


def add_config(sub: Any) -> None:
    parser = sub.add_parser(
        "config", help="show the effective settings (secrets masked)",
        description="Print every setting as this run would use it, from the environment and "
                    ".env; credentials are shown as ***. Example: CSP_MODE=production csp config",
    )
    parser.set_defaults(run=run_config)


def run_config(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    width = max(len(name) for name, _ in settings.describe())
    for name, value in settings.describe():
        print(f"{name:<{width}}  {value}")
    return 0
