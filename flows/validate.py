"""Flow: validate the raw layer and the marts with Great Expectations; record the verdict.

Thin by design (the checks are in `expectations/`): take the inputs' state, run every domain
suite with SQL pushdown, record one verdict per suite in `ops.validation_runs` (what the
activation gate reads), publish a Prefect artifact of the failures, tell the data team on
Slack when something failed, and fail the run naming the failed suites.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from csp.settings import load_settings
from csp.warehouse import Warehouse
from expectations import catalog, parameters, record, runner
from expectations.verdicts import SuiteVerdict
from integrations.data_quality_slack import notice_text, send_notice

DEFAULT_GX_DIR = ".csp/gx"
SAMPLE_CHARS = 300


class ValidationFailed(Exception):
    """At least one suite failed; the message names them (the details are in the artifact)."""


@flow(name="validate")
def validate(suites: list[str] | None = None, params: dict[str, float] | None = None,
             gx_dir: str = DEFAULT_GX_DIR, notify: bool = True,
             raise_on_failure: bool = True) -> dict[str, Any]:
    """Run the suites (default: all), record and publish the verdict; pass/fail per suite."""
    logger = get_run_logger()
    settings = load_settings(dotenv=Path(".env"))
    warehouse = Warehouse.from_settings(settings)
    values = parameters.resolve(settings.sources, params)
    chosen = catalog.domains(settings.sources, values, suites)
    db = record.open_db(warehouse)
    try:
        state = record.inputs_state(db)
    finally:
        db.conn.close()      # DuckDB: the validation reads the file through its own handle
    run_id = uuid.uuid4().hex
    run = runner.validate(warehouse, chosen, values, Path(gx_dir), run_name=run_id)
    db = record.open_db(warehouse)
    try:
        record.save(db, run_id, run.verdicts, state, values)
    finally:
        db.conn.close()
    create_markdown_artifact(key="validation-summary",
                             markdown=summary_markdown(run.verdicts, run_id),
                             description="Great Expectations verdict per suite")
    failed = [verdict.suite for verdict in run.verdicts if not verdict.success]
    if failed and notify:
        try:
            send_notice(settings, notice_text(
                run.verdicts, f"Run {run_id}: details in the Prefect artifact "
                              f"`validation-summary` and the Data Docs."))
        except Exception as exc:  # the verdict is recorded; a Slack outage must not hide it
            logger.warning("data-team notice not sent: %s", str(exc).splitlines()[0])
    for verdict in run.verdicts:
        logger.info("suite %s: %s (%d expectations, %d failed)", verdict.suite,
                    "passed" if verdict.success else "FAILED", verdict.evaluated,
                    len(verdict.failures))
    result = {"run_id": run_id, "success": not failed, "docs": str(run.docs_index),
              "suites": {verdict.suite: verdict.success for verdict in run.verdicts}}
    if failed and raise_on_failure:
        raise ValidationFailed(f"validation failed: {', '.join(failed)} (run {run_id})")
    return result


def summary_markdown(verdicts: list[SuiteVerdict], run_id: str) -> str:
    """Per-suite status, then one row per failure with a sample of the bad rows."""
    lines = [f"### Validation run `{run_id}`", "", "| suite | status | expectations | failed |",
             "|---|---|---:|---:|"]
    lines += [f"| {v.suite} | {'passed' if v.success else '**FAILED**'} | {v.evaluated} | "
              f"{len(v.failures)} |" for v in verdicts]
    failures = [failure for verdict in verdicts for failure in verdict.failures]
    if failures:
        lines += ["", "| suite | asset | expectation | column | observed | sample of bad rows |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {f.suite} | {f.asset} | {_cell(f.expectation)} | {f.column} | "
                  f"{_cell(f.observed)} | {_cell(json.dumps(f.sample, default=str))} |"
                  for f in failures]
    return "\n".join(lines)


def _cell(text: str) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= SAMPLE_CHARS else text[:SAMPLE_CHARS] + "…"

