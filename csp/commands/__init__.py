"""The `csp` subcommands, one module per command group; each `add_*` registers its parser."""

from csp.commands.activate import add_activate
from csp.commands.backfill import add_backfill
from csp.commands.config import add_config
from csp.commands.demo import add_demo
from csp.commands.doctor import add_doctor
from csp.commands.ingest import add_ingest
from csp.commands.report import add_report
from csp.commands.run import add_run
from csp.commands.sandbox import add_sandbox
from csp.commands.transform import add_transform
from csp.commands.validate import add_validate

__all__ = [
    "add_activate",
    "add_backfill",
    "add_config",
    "add_demo",
    "add_doctor",
    "add_ingest",
    "add_report",
    "add_run",
    "add_sandbox",
    "add_transform",
    "add_validate",
]
