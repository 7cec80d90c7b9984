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
    overridden: bool = False


def check_gate(warehouse: Warehouse, *, override_reason: str | None = None) -> GateDecision:
    """Ask validation's gate; an operator's `override_reason` may let a refusal through (the
    gate records who overrode what)."""
    try:
        module = importlib.import_module(GATE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != GATE_MODULE:
            raise
        return GateDecision(False, f"marts not validated: the validation gate ({GATE_MODULE}) "
                                   f"is not installed")
    answer: Any = getattr(module, GATE_FUNCTION)(warehouse, override_reason=override_reason)
    return GateDecision(bool(answer.allowed), str(answer.reason),
                        overridden=bool(getattr(answer, "overridden", False)))
