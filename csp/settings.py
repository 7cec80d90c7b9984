"""Configuration from environment variables and an optional `.env` file.

Everything a run needs is read and checked once, at start-up, so a missing or malformed
setting fails immediately with one line naming the variable — not a traceback halfway through
a load. The environment wins over `.env`. Secret values are wrapped in `Secret`, whose repr
is masked, so printing settings (or an exception carrying them) cannot leak a token.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from integrations.rate_window import RateLimit
from integrations.sandbox.credentials import DEFAULT_SECRETS

PREFIX = "CSP_"
SOURCES = ("hubspot", "salesforce", "stripe", "zendesk", "product")
CRMS = ("hubspot", "salesforce")
DEFAULT_SANDBOX_PORT = 8900

# Client-side limits, a little under each vendor's published rate so other integrations on the
# same account keep some quota: HubSpot 100/10 s (private app), Stripe 100/s read (live mode),
# Zendesk 700/min (Enterprise; incremental exports have their own, lower limit), Slack ~1
# message/s per channel, Salesforce has a daily budget rather than a rate.
DEFAULT_RATE_LIMITS = {
    "hubspot": RateLimit(90, 10.0),
    "salesforce": RateLimit(20, 1.0),
    "stripe": RateLimit(90, 1.0),
    "zendesk": RateLimit(630, 60.0),
    "product": RateLimit(540, 60.0),
    "slack": RateLimit(1, 1.0),
}

PRODUCTION_BASE_URLS = {
    "hubspot": "https://api.hubapi.com",
    "salesforce": "https://login.salesforce.com",
    "stripe": "https://api.stripe.com",
    "slack": "https://slack.com",
}


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


class Secret:
    """A credential: compares and hashes by value, prints as `***`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class VendorConfig:
    """Where one vendor is, how to authenticate (`Secret` values) and how fast to call it."""

    name: str
    base_url: str
    credentials: Mapping[str, Secret] = field(default_factory=dict)
    rate_limit: RateLimit = RateLimit(10, 1.0)


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one run."""

    mode: str                          # "sandbox" (default) or "production"
    duckdb_path: Path
    postgres_dsn: Secret | None        # set -> the warehouse is PostgreSQL
    crm: str
    sources: tuple[str, ...]
    vendors: Mapping[str, VendorConfig]
    sandbox_dir: Path
    sandbox_port: int
    sandbox_size: str
    sandbox_seed: int
    slack_webhook_url: Secret | None
    # Data-quality notices go to the data team, never to the CSMs' alert channels.
    data_team_slack_channel: str = "#data-quality"
    data_team_slack_webhook_url: Secret | None = None

    @property
    def warehouse(self) -> str:
        return "postgres" if self.postgres_dsn else "duckdb"

    def describe(self) -> list[tuple[str, str]]:
        """(name, value) rows for display; secrets masked."""
        rows = [(f.name, repr(getattr(self, f.name))) for f in fields(self)
                if f.name != "vendors"]
        for vendor in self.vendors.values():
            rows.append((f"{vendor.name}.base_url", vendor.base_url))
            rows.extend((f"{vendor.name}.{key}", "***") for key in vendor.credentials)
        return rows


# Per vendor: (credential name, environment variable suffix, sandbox default secret key).
CREDENTIALS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "hubspot": (("token", "HUBSPOT_TOKEN", "hubspot_token"),),
    "salesforce": (("client_id", "SALESFORCE_CLIENT_ID", "salesforce_client_id"),
                   ("client_secret", "SALESFORCE_CLIENT_SECRET", "salesforce_client_secret")),
    "stripe": (("api_key", "STRIPE_API_KEY", "stripe_api_key"),),
    "zendesk": (("email", "ZENDESK_EMAIL", "zendesk_email"),
                ("api_token", "ZENDESK_API_TOKEN", "zendesk_api_token")),
    "product": (("token", "PRODUCT_TOKEN", "product_token"),),
    "slack": (("bot_token", "SLACK_BOT_TOKEN", "slack_bot_token"),),
}


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a `.env` file: KEY=VALUE lines, `#` comments, optional quotes, `export ` prefix."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_settings(environ: Mapping[str, str] | None = None, dotenv: Path | None = None,
                  ) -> Settings:
    """Read, check and return the settings; raises SettingsError with a one-line message."""
    env = dict(read_dotenv(dotenv)) if dotenv and dotenv.exists() else {}
    env.update(os.environ if environ is None else environ)
    reader = _Reader(env)
    mode = reader.choice("MODE", ("sandbox", "production"), "sandbox")
    port = reader.integer("SANDBOX_PORT", DEFAULT_SANDBOX_PORT, 1, 65535)
    sandbox_url = f"http://127.0.0.1:{port}"
    sources = reader.names("SOURCES", SOURCES, ("hubspot", "stripe", "zendesk", "product"))
    crm = reader.choice("CRM", CRMS, "salesforce" if "salesforce" in sources
                        and "hubspot" not in sources else "hubspot")
    vendors = {}
    for name in (*sources, "slack"):
        default_url = (f"{sandbox_url}/{name}" if mode == "sandbox"
                       else PRODUCTION_BASE_URLS.get(name))
        base_url = reader.url(f"{name.upper()}_BASE_URL", default_url, needed_by=name)
        creds = {cred: reader.secret(var, DEFAULT_SECRETS[key] if mode == "sandbox" else None,
                                     needed_by=name)
                 for cred, var, key in CREDENTIALS[name]}
        rate = reader.rate_limit(f"{name.upper()}_RATE_LIMIT", DEFAULT_RATE_LIMITS[name])
        vendors[name] = VendorConfig(name, base_url, creds, rate)
    webhook_default = (f"{sandbox_url}/slack/services/{DEFAULT_SECRETS['slack_webhook_path']}"
                       if mode == "sandbox" else None)
    webhook = reader.optional_secret_url("SLACK_WEBHOOK_URL", webhook_default)
    return Settings(
        mode=mode,
        duckdb_path=Path(reader.text("DUCKDB_PATH", "warehouse/csp.duckdb")),
        postgres_dsn=reader.postgres_dsn("POSTGRES_DSN"),
        crm=crm,
        sources=sources,
        vendors=vendors,
        sandbox_dir=Path(reader.text("SANDBOX_DIR", ".csp/sandbox")),
        sandbox_port=port,
        sandbox_size=reader.choice("SANDBOX_SIZE", ("small", "medium", "large"), "small"),
        sandbox_seed=reader.integer("SANDBOX_SEED", 7, 0, 2**31 - 1),
        slack_webhook_url=webhook,
        data_team_slack_channel=reader.text("DATA_TEAM_SLACK_CHANNEL", "#data-quality"),
        data_team_slack_webhook_url=reader.optional_secret_url("DATA_TEAM_SLACK_WEBHOOK_URL",
                                                               None),
    )


class _Reader:
    """Reads `CSP_<NAME>` variables, each check raising a one-line SettingsError."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def _raw(self, name: str) -> str | None:
        value = self.env.get(PREFIX + name)
        return value.strip() if value is not None and value.strip() != "" else None

    def text(self, name: str, default: str) -> str:
        return self._raw(name) or default

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = (self._raw(name) or default).lower()
        if value not in allowed:
            raise SettingsError(f"{PREFIX}{name}={value!r} is not one of: {', '.join(allowed)}")
        return value

    def names(self, name: str, allowed: tuple[str, ...], default: tuple[str, ...],
              ) -> tuple[str, ...]:
        raw = self._raw(name)
        if raw is None:
            return default
        chosen = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",")
                                     if part.strip()))
        unknown = [part for part in chosen if part not in allowed]
        if unknown or not chosen:
            raise SettingsError(f"{PREFIX}{name}: unknown source {', '.join(unknown) or '(none)'};"
                                f" choose from {', '.join(allowed)}")
        return chosen

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{PREFIX}{name}={raw!r} is not a whole number") from None
        if not minimum <= value <= maximum:
            raise SettingsError(f"{PREFIX}{name}={value} is outside {minimum}..{maximum}")
        return value

    def rate_limit(self, name: str, default: RateLimit) -> RateLimit:
        raw = self._raw(name)
        if raw is None:
            return default
        found = re.fullmatch(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)", raw)
        if not found or int(found[1]) < 1 or float(found[2]) <= 0:
            raise SettingsError(f"{PREFIX}{name}={raw!r}: expected REQUESTS/SECONDS, e.g. 90/10")
        return RateLimit(int(found[1]), float(found[2]))

    def url(self, name: str, default: str | None, *, needed_by: str) -> str:
        value = self._raw(name) or default
        if value is None:
            raise SettingsError(f"{PREFIX}{name} is not set (needed by {needed_by})")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"{PREFIX}{name} must be an http(s) URL with a host")
        return value.rstrip("/")

    def secret(self, name: str, default: str | None, *, needed_by: str) -> Secret:
        value = self._raw(name) or default
        if value is None:
            raise SettingsError(f"{PREFIX}{name} is not set (needed by {needed_by}); "
                                f"put it in the environment or .env")
        return Secret(value)

    def optional_secret_url(self, name: str, default: str | None) -> Secret | None:
        value = self._raw(name) or default
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"{PREFIX}{name} must be an http(s) URL (value not shown)")
        return Secret(value)

    def postgres_dsn(self, name: str) -> Secret | None:
        value = self._raw(name)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres") or not (parts.hostname or "host=" in
                                                                   parts.query):
            raise SettingsError(f"{PREFIX}{name} must look like postgresql://user:password@host"
                                f":5432/database (value not shown: it may hold a password)")
        try:
            parts.port  # noqa: B018  (raises on a malformed port)
        except ValueError:
            raise SettingsError(f"{PREFIX}{name} has a malformed port (value not shown)") from None
        return Secret(value)
