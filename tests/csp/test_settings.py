"""Settings: defaults, the one-line errors, .env handling, and that secrets never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from csp.settings import Secret, SettingsError, load_settings, read_dotenv


def test_defaults_are_the_embedded_sandbox() -> None:
    settings = load_settings({})
    assert settings.mode == "sandbox"
    assert settings.warehouse == "duckdb"
    assert settings.duckdb_path == Path("warehouse/csp.duckdb")
    assert settings.vendors["stripe"].base_url == "http://127.0.0.1:8900/stripe"
    assert settings.crm == "hubspot"
    assert "slack" in settings.vendors


def test_rate_limits_default_under_the_vendors_published_rates_and_can_be_set() -> None:
    defaults = load_settings({}).vendors
    assert (defaults["hubspot"].rate_limit.limit, defaults["hubspot"].rate_limit.window) == (
        90, 10.0)
    tuned = load_settings({"CSP_STRIPE_RATE_LIMIT": "25/1"}).vendors["stripe"].rate_limit
    assert (tuned.limit, tuned.window) == (25, 1.0)


def test_postgres_dsn_switches_the_warehouse() -> None:
    settings = load_settings({"CSP_POSTGRES_DSN": "postgresql://u:pw@db:5432/analytics"})
    assert settings.warehouse == "postgres"
    assert settings.postgres_dsn == Secret("postgresql://u:pw@db:5432/analytics")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CSP_MODE": "prod"}, "CSP_MODE='prod' is not one of: sandbox, production"),
        ({"CSP_SANDBOX_PORT": "eighty"}, "CSP_SANDBOX_PORT='eighty' is not a whole number"),
        ({"CSP_SANDBOX_PORT": "70000"}, "CSP_SANDBOX_PORT=70000 is outside 1..65535"),
        ({"CSP_SOURCES": "stripe,netsuite"}, "CSP_SOURCES: unknown source netsuite"),
        ({"CSP_STRIPE_BASE_URL": "api.stripe.com"},
         "CSP_STRIPE_BASE_URL must be an http(s) URL with a host"),
        ({"CSP_MODE": "production"}, "CSP_HUBSPOT_TOKEN is not set (needed by hubspot)"),
        ({"CSP_MODE": "production", "CSP_SOURCES": "zendesk"},
         "CSP_ZENDESK_BASE_URL is not set (needed by zendesk)"),
        ({"CSP_CRM": "pipedrive"}, "CSP_CRM='pipedrive' is not one of: hubspot, salesforce"),
        ({"CSP_STRIPE_RATE_LIMIT": "fast"},
         "CSP_STRIPE_RATE_LIMIT='fast': expected REQUESTS/SECONDS, e.g. 90/10"),
    ],
)
def test_bad_settings_fail_with_one_line_naming_the_variable(env: dict[str, str],
                                                            message: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(env)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_malformed_dsn_error_does_not_echo_the_password() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"CSP_POSTGRES_DSN": "mysql://admin:hunter2@db/x"})
    assert "CSP_POSTGRES_DSN" in str(error.value)
    assert "hunter2" not in str(error.value)


def test_production_credentials_are_masked_everywhere() -> None:
    env = {"CSP_MODE": "production", "CSP_SOURCES": "stripe",
           "CSP_STRIPE_API_KEY": "rk_live_S3CR3T", "CSP_SLACK_BOT_TOKEN": "xoxb-S3CR3T"}
    settings = load_settings(env)
    assert settings.vendors["stripe"].credentials["api_key"].reveal() == "rk_live_S3CR3T"
    assert settings.vendors["stripe"].base_url == "https://api.stripe.com"
    rendered = repr(settings) + str(settings.describe())
    assert "S3CR3T" not in rendered


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nexport CSP_SANDBOX_SEED=11\nCSP_SANDBOX_SIZE='medium'\n\n")
    settings = load_settings({"CSP_SANDBOX_SEED": "5"}, dotenv=dotenv)
    assert settings.sandbox_seed == 5
    assert settings.sandbox_size == "medium"


def test_malformed_dotenv_line_is_reported_with_its_number(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("CSP_SANDBOX_SEED=1\nthis is not a setting\n")
    with pytest.raises(SettingsError, match=r"\.env:2: expected KEY=VALUE"):
        read_dotenv(dotenv)
