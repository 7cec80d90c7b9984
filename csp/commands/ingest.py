"""`csp ingest`: load sources into the warehouse's raw layer (the `ingest` flow)."""

from __future__ import annotations

import argparse
from typing import Any

from csp.cli import UserError, settings_or_exit
from csp.settings import SOURCES


def add_ingest(sub: Any) -> None:
    parser = sub.add_parser(
        "ingest", help="pull sources into raw_<source> (incremental, exactly once)",
        description="Runs the `ingest` Prefect flow: every configured source, or those named "
                    "with --source, loaded incrementally into the warehouse. "
                    "Example: csp ingest --source stripe --source zendesk")
    add_source_option(parser)
    parser.add_argument("--full-refresh", action="store_true",
                        help="drop the sources' raw tables and cursors, load everything again")
    parser.set_defaults(run=run_ingest)


def add_source_option(parser: argparse.ArgumentParser) -> None:
    """`--source` (repeatable): the sources a run loads; checked by `chosen_sources`."""
    parser.add_argument("--source", action="append", choices=SOURCES, dest="sources",
                        help="a source to load (repeatable; default CSP_SOURCES)")


def chosen_sources(args: argparse.Namespace) -> list[str] | None:
    """The --source values, after checking each is configured; None means all of them."""
    settings = settings_or_exit()
    unknown = set(args.sources or ()) - set(settings.sources)
    if unknown:
        raise UserError(f"--source {', '.join(sorted(unknown))} is not in CSP_SOURCES "
                        f"({', '.join(settings.sources)})")
    return args.sources


def run_ingest(args: argparse.Namespace) -> int:
    return print_ingest(chosen_sources(args), args.full_refresh)


def print_ingest(sources: list[str] | None, full_refresh: bool) -> int:
    """Run the ingest flow, print each source's report; 1 if any source failed."""
    from flows.ingest import IngestFailed, ingest
    from integrations.loader import LoadReport

    try:
        results = ingest(sources=sources, full_refresh=full_refresh)
    except IngestFailed as exc:
        print(f"ingest failed: {exc}")
        return 1
    for report in results.values():
        print(LoadReport.from_dict(report))
    return 0
