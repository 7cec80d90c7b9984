"""Flow: turn the validated marts into Slack alerts and CRM writes — gate, plan, apply.

Thin by design (the logic is in `csp.activation`): ask the validation gate, plan into the
outbox, deliver what is pending, publish both reports as artifacts. A gate that says no stops
the run before planning, and the reason is the run's report and its failure message: nobody
is alerted from data that failed or skipped validation.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from csp.activation.rules import DEFAULT_RULES_PATH
from csp.activation.service import run_apply, run_plan
from csp.settings import load_settings
from csp.warehouse import Warehouse
from expectations.gate import GateDecision, activation_gate


class ActivationRefused(Exception):
    """The validation gate said no; the message is its reason."""


@task(name="validation-gate")
def ask_gate(override_reason: str | None) -> GateDecision:
    settings = load_settings(dotenv=Path(".env"))
    return activation_gate(Warehouse.from_settings(settings), override_reason=override_reason)


@task(name="plan-actions")
def plan_task(rules_path: str, as_of: date | None) -> dict[str, Any]:
    """Write the actions the marts call for into the outbox; the diff as an artifact."""
    settings = load_settings(dotenv=Path(".env"))
    report = run_plan(Warehouse.from_settings(settings), rules_path=Path(rules_path),
                      as_of=as_of)
    create_markdown_artifact(key="activation-plan", markdown=_markdown(report.lines()),
                             description=f"plan as of {report.as_of}")
    return report.summary()


@task(name="deliver-actions")
def apply_task(rules_path: str) -> dict[str, Any]:
    """Deliver the outbox's pending rows (retries live in the HTTP layer and the outbox)."""
    settings = load_settings(dotenv=Path(".env"))
    report = run_apply(Warehouse.from_settings(settings), settings,
                       rules_path=Path(rules_path))
    create_markdown_artifact(key="activation-apply", markdown=_markdown(report.lines()),
                             description="delivery")
    return report.summary()


@flow(name="activate")
def activate(apply: bool = True, rules_path: str = str(DEFAULT_RULES_PATH),
             as_of: date | None = None, override_reason: str | None = None,
             ) -> dict[str, Any]:
    """Gate, plan, then (unless `apply=False`, a dry run) deliver."""
    gate = ask_gate(override_reason)
    if not gate.allowed:
        create_markdown_artifact(key="activation-refused",
                                 markdown=f"Activation refused: {gate.reason}",
                                 description="validation gate")
        raise ActivationRefused(f"activation refused by the validation gate: {gate.reason}")
    result: dict[str, Any] = {"gate": gate.reason, "plan": plan_task(rules_path, as_of)}
    if apply:
        result["apply"] = apply_task(rules_path)
    return result


def _markdown(lines: list[str]) -> str:
    return "```\n" + "\n".join(lines) + "\n```"
