"""`csp demo`: the whole product on the embedded default, end to end, on this machine.

Stages that exist run for real, in order: simulate the company, serve it through the vendors'
APIs on loopback, and ingest every configured source into the DuckDB warehouse through the
`ingest` Prefect flow. Later stages (transform, validate, activate) join here as they land.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from csp.cli import UserError, settings_or_exit
from csp.commands.ingest import print_ingest
from csp.commands.sandbox import ensure_world
from csp.warehouse import Warehouse


def add_demo(sub: Any) -> None:
    parser = sub.add_parser(
        "demo", help="run the pipeline on the embedded default (DuckDB + sandbox)",
        description="Generates the small simulated company (once), serves it on loopback, "
                    "runs every stage that exists against it and prints where to look. "
                    "Example: csp demo")
    parser.add_argument("--size", choices=("small", "medium", "large"), default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--dir", default=None)
    parser.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from integrations.sandbox.credentials import sandbox_secrets
    from integrations.sandbox.server import SandboxServer

    settings = settings_or_exit()
    if settings.mode != "sandbox":
        raise UserError("the demo runs on the sandbox: unset CSP_MODE or set it to sandbox")
    if settings.warehouse != "duckdb":
        raise UserError("the demo runs on the embedded DuckDB warehouse: unset CSP_POSTGRES_DSN")
    started = time.monotonic()
    world = ensure_world(args)
    try:
        server = SandboxServer(world, port=settings.sandbox_port, secrets=sandbox_secrets())
    except OSError as exc:
        raise UserError(f"port {settings.sandbox_port} is busy ({exc.strerror}); set "
                        f"CSP_SANDBOX_PORT to a free port") from None
    with server:
        print(f"\nsandbox up at {server.base_url}; ingesting {', '.join(settings.sources)}:",
              flush=True)
        status = print_ingest(None, full_refresh=False)
    print(f"\ndemo finished in {time.monotonic() - started:.0f}s. Where to look:")
    print(f"  warehouse (DuckDB)  {settings.duckdb_path.resolve()}")
    for schema, tables, rows in raw_summary(Warehouse.from_settings(settings)):
        print(f"    {schema:<14} {tables:>3} tables {rows:>9} rows")
    print(f"  sandbox world       {world}")
    print(f"  serve it again      csp sandbox serve --dir {world.parent}")
    print("  advance a day       csp sandbox step 1 --dir " + str(world.parent))
    return status


def raw_summary(warehouse: Warehouse) -> list[tuple[str, int, int]]:
    """(schema, tables, rows) for each raw schema, data tables only."""
    with warehouse.connect() as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'raw_%' and table_name not like '\\_dlt%' escape '\\' "
            "order by 1, 2").fetchall()
        summary: dict[str, list[int]] = {}
        for schema, table in tables:
            rows = conn.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            summary.setdefault(schema, []).append(rows)
    return [(schema, len(counts), sum(counts)) for schema, counts in summary.items()]
