"""End to end on the real marts: the small company ingested and built by dbt (the session's
`built_duckdb`), planned and delivered to a sandbox serving the same world."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path

from csp.activation.db import Db
from csp.activation.service import run_apply, run_plan
from csp.settings import load_settings
from csp.warehouse import Warehouse
from integrations.sandbox.server import SandboxServer
from tests.activation.conftest import messages_per_key, pushed_counts, sandbox_env, tasks_per_key
from tests.dbt_fixtures import BuiltWarehouse

CROSSINGS_SQL = """
    select today.account_id
    from marts.fct_account_health_daily as today
    join marts.fct_account_health_daily as yesterday
      on yesterday.account_id = today.account_id and yesterday.date = %s
    join marts.dim_accounts as accounts on accounts.account_id = today.account_id
    where today.date = %s and today.health_score < 60 and yesterday.health_score >= 60
      and accounts.mrr > 0 and accounts.csm_email is not null
"""


def test_real_marts_plan_and_deliver_exactly_once(built_duckdb: BuiltWarehouse, tmp_path: Path,
                                                   activation_sandbox: SandboxServer) -> None:
    assert built_duckdb.warehouse.duckdb_path is not None
    copy = tmp_path / "built.duckdb"
    shutil.copyfile(built_duckdb.warehouse.duckdb_path, copy)
    warehouse = Warehouse("duckdb", copy)
    settings = load_settings(sandbox_env(activation_sandbox, warehouse))

    plan = run_plan(warehouse)
    assert plan.skipped_rules == {}, "every rule's inputs are built"
    kinds = Counter(action.kind for action in plan.new)
    assert kinds["slack"] > 0 and kinds["crm_field"] > 0, plan.lines()[:5]
    conn = warehouse.connect()
    try:
        db = Db(conn, "duckdb")
        expected = {row["account_id"] for row in db.query(
            CROSSINGS_SQL, (plan.as_of - timedelta(days=1), plan.as_of))}
    finally:
        conn.close()
    crossed = {a.account_id for a in plan.new
               if a.rule == "health_crossed_below" and a.kind == "slack"}
    digested = {key.split(":")[3] for key in plan.digested if ":health_crossed_below:" in key}
    assert crossed | digested == expected

    report = run_apply(warehouse, settings)
    assert report.failed == {}, list(report.failed.items())[:3]
    received = pushed_counts(activation_sandbox)
    assert received["slack.message"] == kinds["slack"]
    assert received["hubspot.task"] == kinds["crm_task"]
    assert received["hubspot.company_update"] == kinds["crm_field"]
    assert set(messages_per_key(activation_sandbox).values()) == {1}
    assert set(tasks_per_key(activation_sandbox).values()) <= {1}

    assert run_plan(warehouse).new == []
    assert sum(run_apply(warehouse, settings).sent.values()) == 0
    assert pushed_counts(activation_sandbox) == received
