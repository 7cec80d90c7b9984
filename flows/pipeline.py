"""Flow: the whole product in order — ingest → transform → validate → activate.

The parent flow schedules one thing; each stage is its own flow (runnable and schedulable
alone) called here as a subflow, so the run page shows four child runs with their artifacts.
A stage that fails stops every stage after it: transform needs the raw layer, validation the
marts, activation a passing validation. The run ends with a summary artifact naming the stage
that stopped it, why, and what to do. Retries live where they can help — HTTP calls back off
and retry, delivery resumes from the outbox — and nowhere else: a failing dbt model or a
failing expectation fails the same way on a retry.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from flows.activate import activate
from flows.ingest import ingest, one_line
from flows.transform import transform
from flows.validate import validate

STAGES = ("ingest", "transform", "validate", "activate")

# What an operator does when a stage stops the pipeline.
NEXT_STEP = {
    "ingest": "run `csp doctor` to check each source's URL and credentials, fix it, and run "
              "again: loads merge on primary keys, so a re-run never duplicates rows",
    "transform": "open the transform-nodes artifact (or `csp transform`) for the failing model "
                 "or test, fix the model or the data, and run again",
    "validate": "open the validation artifact and the Data Docs for the failing expectations; "
                "alerts were held back. Fix the data and run again (an operator can override "
                "with `csp apply --override-reason ...`, which is recorded)",
    "activate": "run `csp apply` again: delivery resumes from the outbox and never sends an "
                "action twice",
}


class PipelineFailed(Exception):
    """A stage failed; the message names it, the reason and the next step."""


@dataclass
class StageOutcome:
    """One stage of one run: how it ended, how long it took, what it returned."""

    stage: str
    status: str                       # completed | failed | skipped
    seconds: float = 0.0
    reason: str | None = None
    result: dict[str, Any] = field(default_factory=dict)


@flow(name="customer_success_pipeline")
def customer_success_pipeline(sources: list[str] | None = None, full_refresh: bool = False,
                              dry_run: bool = False, as_of_date: date | None = None,
                              override_reason: str | None = None) -> dict[str, Any]:
    """Run every stage; `dry_run` plans alerts and CRM writes without delivering them.

    `as_of_date` stops the daily models (and the alerts planned from them) at that day;
    `override_reason` lets an operator deliver despite a failed validation (recorded).
    """
    calls = {
        "ingest": lambda: ingest(sources=sources, full_refresh=full_refresh),
        "transform": lambda: transform(full_refresh=full_refresh, as_of_date=as_of_date),
        "validate": lambda: validate(),
        "activate": lambda: activate(apply=not dry_run, as_of=as_of_date,
                                     override_reason=override_reason),
    }
    outcomes: list[StageOutcome] = []
    for stage in STAGES:
        if outcomes and outcomes[-1].status != "completed":
            outcomes.append(StageOutcome(stage, "skipped",
                                         reason=f"{outcomes[-1].stage} did not complete"))
            continue
        outcomes.append(_run_stage(stage, calls[stage]))
    create_markdown_artifact(key="pipeline-summary", markdown=summary_markdown(outcomes),
                             description="customer_success_pipeline: stages")
    failed = next((o for o in outcomes if o.status == "failed"), None)
    if failed:
        raise PipelineFailed(f"stage {failed.stage} failed: {failed.reason}. Next: "
                             f"{NEXT_STEP[failed.stage]}")
    return {"stages": [asdict(o) for o in outcomes]}


def _run_stage(stage: str, call: Any) -> StageOutcome:
    started = time.monotonic()
    try:
        result = call()
    except Exception as exc:  # the stage's own flow already reported details; keep the line
        return StageOutcome(stage, "failed", time.monotonic() - started, one_line(exc))
    return StageOutcome(stage, "completed", time.monotonic() - started,
                        result=result if isinstance(result, dict) else {"result": result})


def summary_markdown(outcomes: list[StageOutcome]) -> str:
    rows = ["| stage | status | seconds | note |", "|---|---|---:|---|"]
    for outcome in outcomes:
        note = outcome.reason or ""
        if outcome.status == "failed":
            note += f" — next: {NEXT_STEP[outcome.stage]}"
        rows.append(f"| {outcome.stage} | {outcome.status} | {outcome.seconds:.1f} | {note} |")
    return "\n".join(rows)
