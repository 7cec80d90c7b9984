"""Benchmark of activation: plan and deliver N Slack alerts through the outbox to the sandbox.

Prints the planning time (rules, Block Kit, outbox writes) and the delivery time split into
time spent waiting on rate limits (the client limiter and any Retry-After/backoff) and the
rest — the project's own work plus the local sandbox's answers. Each account of synthetic
marts crosses below the health threshold and has no CRM record or Slack user, so each yields
exactly one message, to its segment's channel.

    python bench/bench_activation.py --actions 10000 --slack-rate 200/1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402

from csp.activation.db import Db  # noqa: E402
from csp.activation.service import run_apply, run_plan  # noqa: E402
from csp.settings import load_settings  # noqa: E402
from csp.warehouse import Warehouse  # noqa: E402
from integrations.rate_window import RateLimit  # noqa: E402
from integrations.sandbox.server import SandboxServer  # noqa: E402
from integrations.sandbox.simulation import generate  # noqa: E402
from tests.activation.mart_fixtures import AS_OF, Marts, account_row, health_row  # noqa: E402

SEGMENTS = ("smb", "mid_market", "enterprise")


def synthetic_marts(accounts: int) -> Marts:
    marts = Marts()
    for number in range(accounts):
        account_id = f"bench{number:06d}"
        row = account_row(account_id, name=f"Bench account {number}", csm_id=None,
                          csm_email=None, segment=SEGMENTS[number % 3])
        marts.add("marts.dim_accounts", **{**row, "crm_account_id": None})
        for day, score in ((AS_OF, 55.0), (AS_OF - timedelta(days=1), 62.0)):
            marts.add("marts.fct_account_health_daily", **health_row(account_id, day, score))
    return marts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10_000, help="alerts to plan and send")
    parser.add_argument("--slack-rate", default="200/1",
                        help="client-side Slack limit, REQUESTS/SECONDS (Slack: ~1/1 per channel)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-activation-") as folder:
        root = Path(folder)
        generate(root / "world", size="small", seed=7, months=1)
        warehouse = Warehouse("duckdb", root / "warehouse.duckdb")
        conn = duckdb.connect(str(warehouse.duckdb_path))
        synthetic_marts(args.actions).write(Db(conn, "duckdb"))
        conn.close()
        started = time.monotonic()
        plan = run_plan(warehouse)
        plan_seconds = time.monotonic() - started
        with SandboxServer(root / "world" / "world.sqlite",
                           rate_limits={"slack": RateLimit(100_000, 1.0)}) as server:
            settings = load_settings({"CSP_SLACK_BASE_URL": server.url("slack"),
                                      "CSP_SLACK_RATE_LIMIT": args.slack_rate,
                                      "CSP_DUCKDB_PATH": str(warehouse.duckdb_path)})
            report = run_apply(warehouse, settings)
    http = report.http["slack"]
    waited = http["waited_seconds"]
    print(f"planned  {len(plan.new):>6} actions in {plan_seconds:7.1f}s "
          f"({len(plan.new) / plan_seconds:,.0f}/s)")
    print(f"sent     {sum(report.sent.values()):>6} messages in {report.seconds:7.1f}s: "
          f"{waited:.1f}s waiting on rate limits (limiter {http['rate_limit_wait_seconds']}s, "
          f"Retry-After/backoff {http['backoff_seconds']}s), "
          f"{report.seconds - waited:.1f}s project + sandbox")
    print(f"requests {http['requests']:>6} ({http['retries']} retries), failed "
          f"{len(report.failed)}, client limit {args.slack_rate}")


if __name__ == "__main__":
    main()
