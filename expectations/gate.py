"""The gate activation asks before anyone is alerted: were its inputs validated, and passed?

Refuses, with the reason, when a suite was never validated, when its latest validation failed,
or when the inputs changed after it — a newer completed raw load, or marts whose row counts
differ from the ones validated (a rebuild nobody checked). An operator may override a refusal
with a reason; the override and what it overrode are recorded in `ops.gate_overrides`, and
the decision says it was overridden.
"""

from __future__ import annotations

import getpass
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from csp.activation.db import Db
from csp.warehouse import Warehouse
from expectations import record
from expectations.contract import DOMAINS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GateDecision:
    allowed: bool
    reason: str
    overridden: bool = False


def activation_gate(warehouse: Warehouse, *, suites: Iterable[str] = DOMAINS,
                    override_reason: str | None = None,
                    operator: str | None = None) -> GateDecision:
    """May activation act on the warehouse's marts now? Overrides are recorded."""
    db = record.open_db(warehouse)
    try:
        refusal = refusal_reason(db, list(suites))
        if refusal is None:
            return GateDecision(True, "inputs validated and passed; unchanged since")
        if not override_reason:
            log.warning("validation gate refused: %s", refusal)
            return GateDecision(False, refusal)
        who = operator or getpass.getuser()
        record.record_override(db, who, override_reason, refusal)
        log.warning("validation gate overridden by %s (%s): %s", who, override_reason, refusal)
        return GateDecision(True, f"overridden by {who} ({override_reason}); the gate said: "
                                  f"{refusal}", overridden=True)
    finally:
        db.conn.close()


def refusal_reason(db: Db, suites: list[str]) -> str | None:
    """Why the gate refuses, or None when every suite's latest verdict is a fresh pass."""
    latest = record.latest(db, suites)
    missing = [suite for suite in suites if suite not in latest]
    if missing:
        return f"never validated: {', '.join(missing)}"
    failed = [row for row in latest.values() if not row["success"]]
    if failed:
        return "latest validation failed: " + "; ".join(
            f"{row['suite']} ({_first_failure(row['details'])})" for row in failed)
    state = record.inputs_state(db)
    for row in latest.values():
        validated_load = row["inputs_loaded_at"]
        if state.newest_load is not None and (validated_load is None
                                              or state.newest_load > validated_load):
            return (f"inputs newer than the validation: raw data loaded at "
                    f"{state.newest_load:%Y-%m-%d %H:%M:%S} UTC, {row['suite']} validated "
                    f"data loaded up to {validated_load or 'nothing'}")
        if row["marts_fingerprint"] != state.fingerprint:
            return (f"marts changed since {row['suite']} was validated at "
                    f"{row['validated_at']:%Y-%m-%d %H:%M:%S} UTC (row counts differ)")
    return None


def _first_failure(details: str) -> str:
    failures = json.loads(details).get("failures", [])
    if not failures:
        return "no detail"
    first = failures[0]
    more = f" and {len(failures) - 1} more" if len(failures) > 1 else ""
    column = f" [{first['column']}]" if first["column"] else ""
    return f"{first['asset']}: {first['expectation']}{column}: {first['observed']}{more}"
