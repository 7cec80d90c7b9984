"""The validate flow under real Prefect, on real dbt-built marts, with the sandbox's Slack.

A passing run records its verdict and says nothing to anyone; a failing run records the
failure, publishes an artifact naming the expectation, the observed value and the bad rows,
posts to the data team's channel (not a CSM channel) without leaking the bot token, and fails
the flow run naming the suite. The gate then refuses, as activation would be told.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests
from prefect.artifacts import Artifact

from csp.settings import load_settings
from csp.warehouse import Warehouse
from expectations import record
from expectations.gate import activation_gate
from flows.validate import ValidationFailed, validate
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.vendors.slack_render import channel_id
from tests.dbt_fixtures import BuiltWarehouse
from tests.expectations.conftest import CORRUPTIONS, duckdb_copy, execute

SUITE = ["account_health"]



@pytest.fixture
def validate_env(built_duckdb: BuiltWarehouse, sandbox: SandboxServer,
                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Warehouse:
    """Settings pointing at a private copy of the built marts and at the sandbox's Slack."""
    warehouse = duckdb_copy(built_duckdb, tmp_path / "warehouse")
    monkeypatch.setenv("CSP_DUCKDB_PATH", str(warehouse.duckdb_path))
    monkeypatch.setenv("CSP_SLACK_BASE_URL", sandbox.url("slack"))
    monkeypatch.chdir(tmp_path)          # the flow's default GX directory (.csp/gx) lands here
    return warehouse


def slack_messages(sandbox: SandboxServer) -> list[dict]:
    token = load_settings().vendors["slack"].credentials["bot_token"].reveal()
    answer = requests.get(sandbox.url("slack") + "/api/_sandbox.messages",
                          headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    return answer["messages"]


def recorded(warehouse: Warehouse) -> list[dict]:
    db = record.open_db(warehouse)
    try:
        return db.query("select suite, success, details from ops.validation_runs")
    finally:
        db.conn.close()


def test_a_passing_run_records_its_verdict_and_notifies_nobody(
        prefect: None, validate_env: Warehouse, sandbox: SandboxServer) -> None:
    result = validate(suites=SUITE)
    assert result["success"] is True and result["suites"] == {"account_health": True}
    assert Path(result["docs"]).is_file()
    pages = Path(result["docs"]).parent / "validations" / "account_health"
    assert list(pages.glob(f"*/{result['run_id']}/*/*.html"))   # Data Docs under the run id
    rows = recorded(validate_env)
    assert [(row["suite"], row["success"]) for row in rows] == [("account_health", True)]
    assert slack_messages(sandbox) == []
    summary = Artifact.get("validation-summary")
    assert summary is not None and "| account_health | passed |" in summary.data


def test_a_failing_run_records_publishes_notifies_the_data_team_and_fails(
        prefect: None, validate_env: Warehouse, sandbox: SandboxServer,
        caplog: pytest.LogCaptureFixture) -> None:
    execute(validate_env, CORRUPTIONS["score 130"])
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ValidationFailed, match="validation failed: account_health"):
        validate(suites=SUITE)
    rows = recorded(validate_env)
    assert [(row["suite"], row["success"]) for row in rows] == [("account_health", False)]
    failures = json.loads(rows[0]["details"])["failures"]
    assert {(f["asset"], f["column"]) for f in failures} >= {
        ("fct_account_health_daily", "health_score")}

    summary = Artifact.get("validation-summary")
    assert summary is not None
    assert "**FAILED**" in summary.data and "health_score" in summary.data
    assert "130" in summary.data                  # the bad row's sample

    messages = slack_messages(sandbox)
    assert [message["channel"] for message in messages] == [channel_id("data-quality")]
    assert "account_health" in messages[0]["text"] and "health_score" in messages[0]["text"]
    token = load_settings().vendors["slack"].credentials["bot_token"].reveal()
    assert token not in caplog.text

    decision = activation_gate(validate_env, suites=SUITE)
    assert not decision.allowed and "account_health" in decision.reason
