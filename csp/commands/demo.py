"""`csp demo`: the whole product on the embedded default, end to end, on this machine.

Simulate the company (once), serve it through the vendors' APIs on loopback, run the
`customer_success_pipeline` flow on the DuckDB warehouse (ingest, transform, validate,
activate: alerts land in the sandbox's Slack and tasks in its CRM), write the HTML report, and
print where each result is. Everything runs for real; only the vendors are simulated.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from csp.cli import UserError, settings_or_exit
from csp.commands.run import print_summary
from csp.commands.sandbox import ensure_world
from csp.warehouse import Warehouse


def add_demo(sub: Any) -> None:
    parser = sub.add_parser(
        "demo", help="run the pipeline on the embedded default (DuckDB + sandbox)",
        description="Generates the small simulated company (once), serves it on loopback, "
                    "runs the whole pipeline against it on DuckDB, writes the report and "
                    "prints where to look. "
                    "Example: csp demo")
    parser.add_argument("--size", choices=("small", "medium", "large"), default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--dir", default=None)
    parser.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from csp.report import build_report
    from flows.pipeline import PipelineFailed, customer_success_pipeline
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
        print(f"\nsandbox up at {server.base_url}; running the pipeline "
              f"(ingest {', '.join(settings.sources)} → transform → validate → activate):",
              flush=True)
        try:
            result = customer_success_pipeline()
        except PipelineFailed as exc:
            print(f"\ndemo stopped: {exc}")
            return 1
        delivered = export_deliveries(server, world.parent / "delivered.json")
    warehouse = Warehouse.from_settings(settings)
    report = build_report(warehouse, world.parent / "report.html")
    print_summary(result["stages"])
    validation = next(s["result"] for s in result["stages"] if s["stage"] == "validate")
    print(f"\ndemo finished in {time.monotonic() - started:.0f}s. Where to look:")
    print(f"  warehouse (DuckDB)  {settings.duckdb_path.resolve()}")
    for schema, tables, rows in raw_summary(warehouse):
        print(f"    {schema:<14} {tables:>3} tables {rows:>9} rows")
    print(f"  report              {report.path.resolve()}")
    print(f"  Data Docs           {Path(validation['docs']).resolve()}")
    print(f"  delivered           {delivered}")
    print(f"  sandbox world       {world}")
    print(f"  serve it again      csp sandbox serve --dir {world.parent}")
    print("  advance a day       csp sandbox step 1 --dir " + str(world.parent))
    return 0


def export_deliveries(server: Any, path: Path) -> str:
    """Write what the sandbox received (Slack messages, CRM writes) to `path`; a summary."""
    pushed = server.world.pushed()
    path.write_text(json.dumps(pushed, indent=1, default=str), encoding="utf-8")
    kinds = Counter(f"{item['vendor']} {item['kind']}" for item in pushed)
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "nothing"
    return f"{path.resolve()} ({counts})"


def raw_summary(warehouse: Warehouse) -> list[tuple[str, int, int]]:
    """(schema, tables, rows) for each raw schema, data tables only (not dlt's staging)."""
    with warehouse.connect() as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'raw_%' and table_schema not like '%\\_staging' escape '\\' "
            "and table_name not like '\\_dlt%' escape '\\' "
            "order by 1, 2").fetchall()
        summary: dict[str, list[int]] = {}
        for schema, table in tables:
            rows = conn.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            summary.setdefault(schema, []).append(rows)
    return [(schema, len(counts), sum(counts)) for schema, counts in summary.items()]
