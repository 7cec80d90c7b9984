"""Delivery against the sandbox over real HTTP: the full run, the immediate re-run, and faults
(429 with Retry-After, 5xx, a connection dropped after the write) — each action lands
exactly once, counted in what the sandbox received."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from csp.activation.db import Db
from csp.activation.outbox import counts
from csp.activation.rules import DEFAULT_RULES_PATH, RuleBook
from csp.activation.service import run_apply, run_plan
from csp.settings import Settings, load_settings
from csp.warehouse import Warehouse
from integrations.sandbox.credentials import DEFAULT_SECRETS
from integrations.sandbox.server import SandboxServer
from tests.activation.conftest import (
    control,
    messages_per_key,
    pushed,
    pushed_counts,
    sandbox_env,
    tasks_per_key,
)
from tests.activation.mart_fixtures import AS_OF, Marts, WorldAccount, health_row

EXPECTED = {"slack.message": 11, "hubspot.task": 5, "hubspot.company_update": 10}


def test_full_run_then_an_immediate_rerun_sends_nothing(
        scenario_warehouse: Warehouse, settings: Settings, activation_sandbox: SandboxServer,
        accounts: list[WorldAccount]) -> None:
    run_plan(scenario_warehouse)
    report = run_apply(scenario_warehouse, settings)
    assert dict(report.sent) == {"slack": 11, "crm_task": 5, "crm_field": 10}
    assert report.failed == {}
    assert pushed_counts(activation_sandbox) == EXPECTED

    assert run_plan(scenario_warehouse).new == []
    again = run_apply(scenario_warehouse, settings)
    assert sum(again.sent.values()) == 0 and again.http["slack"]["requests"] == 0
    assert pushed_counts(activation_sandbox) == EXPECTED

    expansion = next(p["body"]["sent"] for p in pushed(activation_sandbox)
                     if p["kind"] == "task" and ":expansion_signal:" in p["key"])
    assert expansion["properties"]["csp_cs_sourced_lead"] == "true"
    assert expansion["properties"]["hubspot_owner_id"] == accounts[7].owner_id
    assert expansion["associations"][0]["to"]["id"] == accounts[7].company_id
    health = next(p["body"]["sent"]["properties"] for p in pushed(activation_sandbox)
                  if p["kind"] == "company_update" and p["key"] == accounts[0].company_id)
    assert health == {"csp_health_score": "55.0", "csp_health_band": "critical",
                      "csp_health_driver": "payment"}


def test_the_next_day_only_new_alerts_go_out(
        scenario_warehouse: Warehouse, settings: Settings, activation_sandbox: SandboxServer,
        accounts: list[WorldAccount]) -> None:
    run_plan(scenario_warehouse)
    run_apply(scenario_warehouse, settings)
    tomorrow = AS_OF + timedelta(days=1)
    conn = scenario_warehouse.connect()
    try:
        db = Db(conn, "duckdb")
        today = db.query("select * from marts.fct_account_health_daily where date = %s",
                         (AS_OF,))
        for row in today:             # the same scores again, except account 9 crosses below
            if row["account_id"] == accounts[9].company_id:
                row.update(health_row(row["account_id"], tomorrow, 58.0, change_7d=-27.0))
            row["date"] = tomorrow
        Marts(rows={"marts.fct_account_health_daily": today}).append(
            db, "marts.fct_account_health_daily")
    finally:
        conn.close()
    plan_report = run_plan(scenario_warehouse)
    assert plan_report.as_of == tomorrow
    assert {(a.kind, a.rule, a.account_id) for a in plan_report.new} == {
        ("slack", "health_crossed_below", accounts[9].company_id),
        ("slack", "sharp_drop", accounts[9].company_id),
        ("crm_task", "health_crossed_below", accounts[9].company_id),
        ("crm_field", "health_writeback", accounts[9].company_id),
    }
    report = run_apply(scenario_warehouse, settings)
    assert dict(report.sent) == {"slack": 2, "crm_task": 1, "crm_field": 1}
    assert pushed_counts(activation_sandbox) == {
        "slack.message": 13, "hubspot.task": 6, "hubspot.company_update": 11}


FAULTS = [
    pytest.param({"vendor": "slack", "kind": "rate_limit", "route": "chat.postMessage",
                  "count": 2, "seconds": 1}, id="slack-429-retry-after"),
    pytest.param({"vendor": "hubspot", "kind": "rate_limit", "route": "tasks.create",
                  "count": 2, "seconds": 1}, id="hubspot-429-retry-after"),
    pytest.param({"vendor": "slack", "kind": "http_error", "route": "chat.postMessage",
                  "count": 1, "status": 503}, id="slack-5xx"),
    pytest.param({"vendor": "hubspot", "kind": "http_error", "route": "tasks.create",
                  "count": 1, "status": 502}, id="hubspot-5xx"),
    pytest.param({"vendor": "hubspot", "kind": "http_error", "route": "companies.batch_update",
                  "count": 1, "status": 503}, id="hubspot-batch-5xx"),
    pytest.param({"vendor": "slack", "kind": "drop", "route": "chat.postMessage", "count": 2},
                 id="slack-dropped-after-write"),
    pytest.param({"vendor": "hubspot", "kind": "drop", "route": "tasks.create", "count": 2},
                 id="hubspot-dropped-after-write"),
]


@pytest.mark.parametrize("fault", FAULTS)
def test_faults_yield_exactly_one_delivery(fault: dict[str, object],
                                           scenario_warehouse: Warehouse, settings: Settings,
                                           activation_sandbox: SandboxServer) -> None:
    run_plan(scenario_warehouse)
    control(activation_sandbox, "POST", "/faults", fault)
    report = run_apply(scenario_warehouse, settings)
    status = {"rate_limit": 429, "drop": 0}.get(str(fault["kind"]), fault.get("status"))
    assert control(activation_sandbox, "GET", "/requests")["statuses"][str(status)] == \
        fault["count"], "every injected fault fired"
    assert report.failed == {}
    assert pushed_counts(activation_sandbox) == EXPECTED
    assert set(messages_per_key(activation_sandbox).values()) == {1}
    assert set(tasks_per_key(activation_sandbox).values()) == {1}
    if fault["kind"] == "drop":
        assert report.found_already_delivered == fault["count"]
    if fault["kind"] == "rate_limit":
        vendor = str(fault["vendor"])
        assert report.http[vendor]["retry_reasons"] == {"429": fault["count"]}
        assert report.http[vendor]["backoff_seconds"] >= 1.0 * int(str(fault["count"]))
    conn = scenario_warehouse.connect()
    try:
        assert counts(Db(conn, "duckdb")) == {"sent": 26, "suppressed": 4}
    finally:
        conn.close()


def test_an_ambiguity_left_unresolved_is_looked_up_by_the_next_apply(
        scenario_warehouse: Warehouse, settings: Settings,
        activation_sandbox: SandboxServer) -> None:
    run_plan(scenario_warehouse)
    control(activation_sandbox, "POST", "/faults", {"vendor": "slack", "kind": "http_error",
                                                    "route": "chat.postMessage", "count": 2,
                                                    "status": 503})
    first = run_apply(scenario_warehouse, settings)
    (key, reason), = first.failed.items()
    assert "may or may not have been applied" in reason and "HTTP 503" in reason
    assert "Bearer" not in reason and "xoxb" not in reason
    second = run_apply(scenario_warehouse, settings)
    assert dict(second.sent) == {"slack": 1} and second.failed == {}
    assert messages_per_key(activation_sandbox)[key] == 1
    assert pushed_counts(activation_sandbox) == EXPECTED


def test_on_postgres_the_outbox_delivers_once(postgres_dsn: str, rules: RuleBook,
                                              activation_sandbox: SandboxServer,
                                              accounts: list[WorldAccount]) -> None:
    import psycopg2

    from csp.settings import Secret
    from tests.activation.conftest import sandbox_settings
    from tests.activation.mart_fixtures import scenario_marts

    conn = psycopg2.connect(postgres_dsn)
    try:
        scenario_marts(accounts).write(Db(conn, "postgres"))
    finally:
        conn.close()
    warehouse = Warehouse("postgres", Path("unused.duckdb"), Secret(postgres_dsn))
    settings = sandbox_settings(activation_sandbox, warehouse)
    assert len(run_plan(warehouse).new) == 26
    assert sum(run_apply(warehouse, settings).sent.values()) == 26
    assert run_plan(warehouse).new == []
    assert sum(run_apply(warehouse, settings).sent.values()) == 0
    assert pushed_counts(activation_sandbox) == EXPECTED


def test_incoming_webhook_delivers_and_holds_what_it_cannot_look_up(
        tmp_path: Path, scenario_warehouse: Warehouse, activation_sandbox: SandboxServer) -> None:
    webhook_path = DEFAULT_SECRETS["slack_webhook_path"]
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(DEFAULT_RULES_PATH.read_text().replace(
        "transport: bot_token", "transport: webhook"))
    settings = load_settings({**sandbox_env(activation_sandbox, scenario_warehouse),
                              "CSP_SLACK_WEBHOOK_URL":
                                  f"{activation_sandbox.url('slack')}/services/{webhook_path}"})
    run_plan(scenario_warehouse, rules_path=rules_file)
    control(activation_sandbox, "POST", "/faults", {"vendor": "slack", "kind": "drop",
                                                    "route": "webhook", "count": 1})
    first = run_apply(scenario_warehouse, settings, rules_path=rules_file)
    (held_key, reason), = first.failed.items()
    assert reason.startswith("outcome unknown, not resent: an incoming webhook cannot look")
    assert webhook_path not in str(first.summary())
    again = run_apply(scenario_warehouse, settings, rules_path=rules_file)
    assert sum(again.sent.values()) == 0 and again.failed == {}, "held rows are not resent"
    messages = [p["body"] for p in pushed(activation_sandbox) if p["vendor"] == "slack"]
    assert len(messages) == EXPECTED["slack.message"]       # the dropped one did land, once
    assert {m["via"] for m in messages} == {"webhook"}
