"""`csp run`: the whole pipeline (the `customer_success_pipeline` flow) and its summary table."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from csp.cli import iso_date
from csp.commands.ingest import add_source_option, chosen_sources


def add_run(sub: Any) -> None:
    parser = sub.add_parser(
        "run", help="ingest → transform → validate → activate, with a summary per stage",
        description="Runs the `customer_success_pipeline` flow: every stage in order, each "
                    "stopping the ones after it when it fails. --dry-run plans the alerts and "
                    "CRM writes without delivering them. "
                    "Example: csp run --dry-run --as-of 2026-10-31")
    add_source_option(parser)
    parser.add_argument("--full-refresh", action="store_true",
                        help="reload the raw layer and rebuild every incremental model")
    parser.add_argument("--dry-run", action="store_true",
                        help="plan alerts and CRM writes, deliver nothing")
    parser.add_argument("--as-of", type=iso_date, default=None,
                        help="stop daily models and alerts at this day (YYYY-MM-DD)")
    parser.add_argument("--override-reason", default=None,
                        help="deliver even though validation failed (recorded; operators only)")
    parser.set_defaults(run=run_pipeline_command)


def run_pipeline_command(args: argparse.Namespace) -> int:
    from flows.pipeline import PipelineFailed, customer_success_pipeline

    sources = chosen_sources(args)
    try:
        result = customer_success_pipeline(
            sources=sources, full_refresh=args.full_refresh, dry_run=args.dry_run,
            as_of_date=args.as_of, override_reason=args.override_reason)
    except PipelineFailed as exc:
        print(f"\npipeline stopped: {exc}")
        return 1
    print_summary(result["stages"])
    return 0


def print_summary(stages: list[dict[str, Any]]) -> None:
    """One row per stage: status, elapsed seconds and the stage's headline figures."""
    print(f"\n{'stage':<10} {'status':<10} {'seconds':>8}  figures")
    for stage in stages:
        print(f"{stage['stage']:<10} {stage['status']:<10} {stage['seconds']:>8.1f}  "
              f"{stage_figures(stage['stage'], stage['result'])}")


def stage_figures(stage: str, result: dict[str, Any]) -> str:
    """The numbers a data engineer looks for first, from each stage flow's return value."""
    if not result:
        return ""
    if stage == "ingest":
        tables = [table for report in result.values() for table in report["tables"]]
        return (f"{sum(t['loaded'] for t in tables)} rows loaded from {len(result)} sources, "
                f"{sum(t['quarantined'] for t in tables)} quarantined")
    if stage == "transform":
        statuses = Counter((n["resource_type"], n["status"]) for n in result["nodes"])
        return (f"{statuses[('model', 'success')]} models built, "
                f"{statuses[('test', 'pass')] + statuses[('unit_test', 'pass')]} tests passed")
    if stage == "validate":
        suites = result["suites"]
        return f"{sum(suites.values())} of {len(suites)} suites passed"
    plan = result.get("plan", {})
    applied = result.get("apply", {})
    return (f"{plan.get('new', 0)} actions planned, {applied.get('sent_total', 0)} sent, "
            f"{applied.get('failed', 0)} failed")
