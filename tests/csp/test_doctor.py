"""`csp doctor` against the running sandbox: all OK, then one wrong credential is named."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from csp.cli import main
from csp.doctor import run_doctor
from csp.settings import load_settings
from integrations.sandbox.server import SandboxServer

SOURCES = "hubspot,salesforce,stripe,zendesk,product"


@pytest.fixture(scope="module")
def sandbox(small_world: Path) -> Iterator[SandboxServer]:
    """One server for the module: the doctor only reads, so the shared world stays intact."""
    with SandboxServer(small_world) as server:
        yield server


def settings_for(sandbox: SandboxServer, tmp_path: Path, **overrides: str):  # type: ignore[no-untyped-def]
    env = {"CSP_SANDBOX_PORT": sandbox.base_url.rsplit(":", 1)[1], "CSP_SOURCES": SOURCES,
           "CSP_DUCKDB_PATH": str(tmp_path / "wh.duckdb"), **overrides}
    return load_settings(env)


def test_every_item_is_ok_on_the_sandbox(sandbox: SandboxServer, tmp_path: Path) -> None:
    checks = run_doctor(settings_for(sandbox, tmp_path))
    assert [c.item for c in checks] == [
        "warehouse (duckdb)", "hubspot credentials", "salesforce credentials",
        "stripe credentials", "zendesk credentials", "product credentials",
        "slack credentials", "slack webhook"]
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]


@pytest.mark.parametrize(("variable", "named"), [
    ("CSP_HUBSPOT_TOKEN", "CSP_HUBSPOT_TOKEN"),
    ("CSP_STRIPE_API_KEY", "CSP_STRIPE_API_KEY"),
    ("CSP_PRODUCT_TOKEN", "CSP_PRODUCT_TOKEN"),
    ("CSP_SLACK_BOT_TOKEN", "CSP_SLACK_BOT_TOKEN"),
    ("CSP_ZENDESK_API_TOKEN", "CSP_ZENDESK_EMAIL / CSP_ZENDESK_API_TOKEN"),
    ("CSP_SALESFORCE_CLIENT_SECRET", "CSP_SALESFORCE_CLIENT_ID / CSP_SALESFORCE_CLIENT_SECRET"),
])
def test_one_wrong_credential_is_named_and_nothing_else_fails(
        sandbox: SandboxServer, tmp_path: Path, variable: str, named: str) -> None:
    sentinel = "wrong-sentinel-credential-7731"
    checks = run_doctor(settings_for(sandbox, tmp_path, **{variable: sentinel}))
    failing = [c for c in checks if not c.ok]
    assert len(failing) == 1, failing
    assert f"set {named} to a valid credential" in failing[0].detail
    assert sentinel not in failing[0].detail


def test_unreachable_vendor_and_exit_code(sandbox: SandboxServer, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CSP_SANDBOX_PORT", sandbox.base_url.rsplit(":", 1)[1])
    monkeypatch.setenv("CSP_SOURCES", "stripe")
    monkeypatch.setenv("CSP_DUCKDB_PATH", str(tmp_path / "wh.duckdb"))
    assert main(["doctor"]) == 0
    monkeypatch.setenv("CSP_STRIPE_BASE_URL", "http://127.0.0.1:9/stripe")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FIX  stripe credentials" in out and "cannot reach http://127.0.0.1:9/stripe" in out
    assert "check CSP_STRIPE_BASE_URL" in out and "; 1 to fix" in out
