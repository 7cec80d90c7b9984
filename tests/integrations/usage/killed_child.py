"""A load of the product or Zendesk source that SIGKILLs itself at a chosen point.

`killed_run(...)` runs it as `python -m tests.integrations.usage.killed_child <source>
<base_url> <duckdb_path> <point> <tuning-json>` for the killed-run tests of both sources (one
child, so both are killed the same way). Points: `mid_extract` (when the third HTTP request
is sent: earlier pages are extracted, later ones not), `after_extract` (before normalize),
`before_merge` (staging tables loaded, the merge into the raw tables not run).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import dlt
from dlt.load.load import Load

from csp.settings import load_settings
from csp.warehouse import Warehouse
from integrations.http import VendorSession
from integrations.loader import WarehouseLoader
from integrations.usage import product_source
from integrations.zendesk import zendesk_source

POINTS = ("mid_extract", "after_extract", "before_merge")
REPO = Path(__file__).resolve().parents[3]


def killed_run(source: str, base_url: str, duckdb_path: Path, point: str,
               **tuning: Any) -> None:
    """Run the child; it must have died by SIGKILL (not finished, not failed)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNTIME__DLTHUB_TELEMETRY": "false"}
    child = subprocess.run([sys.executable, "-m", __name__, source, base_url,
                            str(duckdb_path), point, json.dumps(tuning)],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr


def die(*args: Any, **kwargs: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str) -> None:
    """Patch the step the run must die in."""
    if point == "mid_extract":
        send = VendorSession.send
        sent: list[int] = []

        def send_then_die(self: VendorSession, *args: Any, **kwargs: Any) -> Any:
            sent.append(1)
            if len(sent) == 3:
                die()
            return send(self, *args, **kwargs)

        VendorSession.send = send_then_die  # type: ignore[method-assign]
    elif point == "after_extract":
        dlt.Pipeline.normalize = die  # type: ignore[method-assign,assignment]
    elif point == "before_merge":
        Load.create_followup_jobs = die  # type: ignore[method-assign,assignment]
    else:
        raise SystemExit(f"unknown kill point {point!r}; one of {', '.join(POINTS)}")


def main(source: str, base_url: str, duckdb_path: str, point: str, tuning: str) -> None:
    config = load_settings({f"CSP_{source.upper()}_BASE_URL": base_url}).vendors[source]
    factory = {"product": product_source, "zendesk": zendesk_source}[source]
    arm(point)
    WarehouseLoader(Warehouse("duckdb", Path(duckdb_path))).load(
        factory(config, **json.loads(tuning)))
    print("not killed")


if __name__ == "__main__":
    main(*sys.argv[1:6])
