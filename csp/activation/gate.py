"""The validation gate as activation sees it: may we deliver from these marts, and why not.

The gate itself belongs to validation (Great Expectations, `expectations/`); activation only
asks it. Until a validation module provides `activation_gate(warehouse) -> decision`, the
answer is "no, the marts were not validated" — DESIGN.md §1: nobody is alerted from data
that was not checked. An operator may override a refusal with a reason, which is recorded in
the run's report.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from csp.warehouse import Warehouse

GATE_MODULE = "expectations.gate"
GATE_FUNCTION = "activation_gate"


@dataclass(frozen=True)
class GateDecision:
    """Whether activation may deliver, and the one-line reason either way."""

    allowed: bool
    reason: str
    overridden_by: str | None = None


def check_gate(warehouse: Warehouse, *, override_reason: str | None = None) -> GateDecision:
    """Ask validation's gate; an operator's `override_reason` lets a refusal through."""
    decision = _ask_validation(warehouse)
    if not decision.allowed and override_reason:
        return GateDecision(True, f"gate refused ({decision.reason}); operator override: "
                                  f"{override_reason}", overridden_by=override_reason)
    return decision


def _ask_validation(warehouse: Warehouse) -> GateDecision:
    try:
        module = importlib.import_module(GATE_MODULE)
    except ModuleNotFoundError:
        return GateDecision(False, "marts not validated: the validation gate "
                                   f"({GATE_MODULE}) is not installed")
    answer: Any = getattr(module, GATE_FUNCTION)(warehouse)
    return GateDecision(bool(getattr(answer, "allowed", answer)),
                        str(getattr(answer, "reason", "validation gate answered")))
