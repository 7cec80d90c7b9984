"""Flow: build the marts — `dbt build` (seeds, models, snapshots, tests) on the warehouse.

dbt runs in-process through its programmatic API, on the same warehouse the ingest flow loaded
(`Warehouse.from_settings`), with the CRM that owns account ids passed as the `crm` var. Every
node's outcome is published as a Prefect table artifact and returned, so a run page shows what
was built and which test failed with what message; a failed node fails the flow with one line
naming each failed node. No retries: a failing model or test fails the same way again.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_table_artifact

from csp.dbt_runner import PROJECT_DIR, DbtRun, dbt_args, run_dbt
from csp.settings import load_settings
from csp.warehouse import Warehouse

MAX_MESSAGE = 300


class TransformFailed(Exception):
    """dbt could not run, or nodes failed; the message names each failed node, `run` holds
    every node's result (so a caller can still print what was built)."""

    def __init__(self, message: str, run: DbtRun) -> None:
        super().__init__(message)
        self.run = run

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.run))


@task(name="dbt-build")
def dbt_build(select: list[str] | None, full_refresh: bool, dbt_vars: dict[str, Any],
              target_dir: str | None) -> dict[str, Any]:
    """One `dbt build` on the configured warehouse; the per-node results as plain data."""
    settings = load_settings(dotenv=Path(".env"))
    folder = Path(target_dir) if target_dir else PROJECT_DIR
    args = dbt_args("build", target_path=folder / "target", log_path=folder / "logs",
                    select=select or (), full_refresh=full_refresh,
                    dbt_vars={"crm": settings.crm, **dbt_vars})
    return run_dbt(Warehouse.from_settings(settings), args).as_dict()


def publish_results(run: DbtRun) -> None:
    """Every node's outcome as a table artifact; the summary lines as its description."""
    create_table_artifact(
        key="transform-nodes",
        table=[{"node": node.name, "type": node.resource_type, "status": node.status,
                "rows_affected": node.rows_affected, "failures": node.failures,
                "seconds": node.execution_time,
                "message": (node.message or "")[:MAX_MESSAGE] if node.failed else ""}
               for node in run.nodes],
        description="; ".join(run.summary_lines()),
    )


def failure_message(run: DbtRun) -> str | None:
    """One line naming what failed, or None when the build succeeded."""
    if run.error:
        return f"dbt build could not run: {run.error}"
    failed = run.failed_nodes
    if failed:
        return (f"dbt build failed on {len(failed)} node(s): "
                + "; ".join(node.problem()[:MAX_MESSAGE] for node in failed))
    if not run.success:
        return "dbt build failed without a failed node (see the dbt log)"
    return None


@flow(name="transform")
def transform(select: list[str] | None = None, full_refresh: bool = False,
              as_of_date: date | None = None, dbt_vars: dict[str, Any] | None = None,
              target_dir: str | None = None) -> dict[str, Any]:
    """`dbt build` of the project (or `select`): the marts of DESIGN.md §6 and their tests.

    `as_of_date` stops the daily models at that day (default: the newest day in the data);
    `dbt_vars` override other project vars; `target_dir` holds dbt's target/ and logs/
    (default: inside dbt_project/).
    """
    chosen_vars = dict(dbt_vars or {})
    if as_of_date is not None:
        chosen_vars["as_of_date"] = as_of_date.isoformat()
    run = DbtRun.from_dict(dbt_build(select, full_refresh, chosen_vars, target_dir))
    publish_results(run)
    problem = failure_message(run)
    if problem:
        raise TransformFailed(problem, run)
    return run.as_dict()
