"""A run of one real source that SIGKILLs itself at a chosen point of extract, normalize or load.

`killed_run(source, sandbox_url, warehouse, point, **tuning)` runs
`python -m tests.integrations.killed_child ...` into the warehouse (DuckDB or PostgreSQL) and
checks the child died by SIGKILL (neither finished nor failed). Points:

- `request:N` — as the Nth HTTP request is about to be sent (earlier pages extracted);
- `normalize:N` — as the Nth extracted file starts normalizing (`normalize:1`: right after
  extract; later: some tables normalized, others not);
- `load:start` — every file normalized, nothing loaded;
- `load:commit:<table>` — a load job of `<table>` committed its rows, dlt not yet told (the
  window in which dlt 1.31 would run the job again on resume);
- `load:merge` — the first job completed, no merge from staging run yet;
- `load:complete` — every table written, the load not recorded in `_dlt_loads`.
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
from dlt.common.storages.load_package import PackageStorage
from dlt.load.load import Load
from dlt.normalize.items_normalizers import ArrowItemsNormalizer, JsonLItemsNormalizer

from csp.settings import SOURCES, Secret, load_settings
from csp.warehouse import Warehouse
from integrations.http import VendorSession
from integrations.loader import WarehouseLoader
from integrations.sources import build_source

REPO = Path(__file__).resolve().parents[2]


def killed_run(source: str, sandbox_url: str, warehouse: Warehouse, point: str,
               **tuning: Any) -> None:
    """Run the child; it must have died by SIGKILL (not finished, not failed)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNTIME__DLTHUB_TELEMETRY": "false"}
    if warehouse.postgres_dsn is not None:   # not on the command line: it may hold a password
        env["CSP_KILLED_CHILD_DSN"] = warehouse.postgres_dsn.reveal()
    child = subprocess.run([sys.executable, "-m", __name__, source, sandbox_url,
                            str(warehouse.duckdb_path), point, json.dumps(tuning)],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, (
        f"{source} at {point}: exit {child.returncode}\n{child.stdout}{child.stderr}")


def die(*args: Any, **kwargs: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def on_call(owner: Any, method: str, nth: int, when: Any = None) -> None:
    """Make `owner.method` kill the process on its `nth` call (counting calls `when` accepts)."""
    original = getattr(owner, method)
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        if when is None or when(*args, **kwargs):
            calls.append(1)
            if len(calls) == nth:
                die()
        return original(*args, **kwargs)

    setattr(owner, method, counted)


def arm(point: str) -> None:
    """Patch the step the run must die in."""
    step, _, detail = point.partition(":")
    if step == "request":
        on_call(VendorSession, "send", int(detail))
    elif step == "normalize":
        for normalizer in (JsonLItemsNormalizer, ArrowItemsNormalizer):
            on_call(normalizer, "__call__", int(detail))
    elif point == "load:start":
        dlt.Pipeline.load = die  # type: ignore[method-assign,assignment]
    elif step == "load" and detail.startswith("commit:"):
        table = detail.removeprefix("commit:")
        on_call(PackageStorage, "save_pending_transition", 1,
                lambda _self, _load_id, file_name, *rest, **kw: file_name.startswith(
                    f"{table}."))
    elif point == "load:merge":
        Load.create_followup_jobs = die  # type: ignore[method-assign,assignment]
    elif point == "load:complete":
        Load.complete_package = die  # type: ignore[method-assign,assignment]
    else:
        raise SystemExit(f"unknown kill point {point!r}")


def main(source: str, sandbox_url: str, duckdb_path: str, point: str, tuning: str) -> None:
    env = {"CSP_SOURCES": ",".join(SOURCES),
           f"CSP_{source.upper()}_BASE_URL": f"{sandbox_url.rstrip('/')}/{source}"}
    run = build_source(load_settings(env).vendors[source], **json.loads(tuning))
    dsn = os.environ.get("CSP_KILLED_CHILD_DSN")
    warehouse = (Warehouse("postgres", Path(duckdb_path), Secret(dsn)) if dsn
                 else Warehouse("duckdb", Path(duckdb_path)))
    arm(point)
    WarehouseLoader(warehouse).load(run.source)
    print("not killed")


if __name__ == "__main__":
    main(*sys.argv[1:6])
