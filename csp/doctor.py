"""`csp doctor`: is every configured connection and credential usable, and if not, what to fix.

One cheap authenticated read per vendor (never a write: a probe must not post a Slack message
or create a CRM record), one `select 1` on the warehouse. Each probe tries once with short
timeouts — a doctor should answer in seconds, not retry for minutes — and a failure names the
exact setting to change. Credentials are only ever placed in request headers or form fields,
never in a message.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass

import requests

from csp.settings import CREDENTIALS, PREFIX, Settings, VendorConfig
from csp.warehouse import Warehouse
from integrations.http import RetryPolicy, VendorRequestError, VendorSession, create_session
from integrations.usage.client import MissingCredentialError as ProductCredentialMissing
from integrations.zendesk.auth import MissingCredentialError as ZendeskCredentialMissing

NOT_CONFIGURED = (ValueError, LookupError, ProductCredentialMissing, ZendeskCredentialMissing)

PROBE_TIMEOUT = (3.0, 10.0)
REJECTED = {401, 403}
SALESFORCE_OAUTH_REJECTIONS = {"invalid_client", "invalid_client_id", "invalid_grant",
                               "unauthorized_client"}


@dataclass(frozen=True)
class Check:
    """One item of the doctor's answer: what was checked, whether it works, what to do."""

    item: str
    ok: bool
    detail: str


def run_doctor(settings: Settings) -> list[Check]:
    """Check the warehouse and every configured vendor, in a stable order."""
    checks = [check_warehouse(Warehouse.from_settings(settings))]
    for name, config in settings.vendors.items():
        checks.append(check_vendor(config, sandbox=settings.mode == "sandbox"))
        if name == "slack" and settings.slack_webhook_url is not None:
            checks.append(Check("slack webhook", True, "configured (not probed: a probe "
                                "would post a message to the channel)"))
    return checks


def check_warehouse(warehouse: Warehouse) -> Check:
    item = f"warehouse ({warehouse.engine})"
    where = (str(warehouse.duckdb_path) if warehouse.engine == "duckdb"
             else "CSP_POSTGRES_DSN")
    try:
        with closing(warehouse.connect()) as conn:
            cursor = conn.cursor()
            cursor.execute("select 1")
            cursor.fetchall()
    except Exception as exc:  # every driver error is a finding here, not a crash
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        fix = ("another process may hold the DuckDB file (one writer per file); or set "
               "CSP_DUCKDB_PATH" if warehouse.engine == "duckdb"
               else "check host, port, database, user and password in CSP_POSTGRES_DSN")
        return Check(item, False, f"cannot open {where}: {first}; {fix}")
    return Check(item, True, f"OK ({where})")


def check_vendor(config: VendorConfig, *, sandbox: bool) -> Check:
    """One authenticated read against `config`'s base URL, judged by its HTTP answer."""
    item = f"{config.name} credentials"
    variables = " / ".join(PREFIX + var for _, var, _ in CREDENTIALS[config.name])
    session = create_session(config.name, timeout=PROBE_TIMEOUT,
                             retry=RetryPolicy(max_attempts=1))
    try:
        response = PROBES[config.name](session, config)
    except NOT_CONFIGURED as exc:       # a credential the probe needs is not configured
        return Check(item, False, f"not configured ({exc}); set {variables}")
    except (VendorRequestError, requests.RequestException) as exc:
        hint = " (is `csp sandbox serve` running?)" if sandbox else ""
        return Check(item, False, f"cannot reach {config.base_url}{hint}: {_first_line(exc)}; "
                                  f"check {PREFIX}{config.name.upper()}_BASE_URL")
    finally:
        session.close()
    rejection = _rejection(config.name, response)
    if rejection:
        return Check(item, False, f"rejected by {config.name} ({rejection}): set {variables} "
                                  f"to a valid credential")
    if response.status_code >= 400:
        return Check(item, False, f"unexpected answer HTTP {response.status_code} from "
                                  f"{config.base_url}; check {PREFIX}"
                                  f"{config.name.upper()}_BASE_URL")
    return Check(item, True, f"OK ({config.base_url})")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _rejection(vendor: str, response: requests.Response) -> str | None:
    """Why the vendor refused the credential, or None: 401/403 for most; Slack says
    `{"ok": false, "error": ...}` with HTTP 200; Salesforce's OAuth says HTTP 400
    `{"error": "invalid_client"}`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if response.status_code in REJECTED:
        return f"HTTP {response.status_code}" + (f", {error}" if error else "")
    if vendor == "slack" and isinstance(body, dict) and body.get("ok") is False:
        return f"HTTP {response.status_code}, {error or 'not ok'}"
    if vendor == "salesforce" and error in SALESFORCE_OAUTH_REJECTIONS:
        return f"HTTP {response.status_code}, {error}"
    return None


def _credential(config: VendorConfig, name: str) -> str:
    secret = config.credentials.get(name)
    if secret is None:
        raise LookupError(f"{config.name}: no {name!r} credential")
    return secret.reveal()


def _hubspot(session: VendorSession, config: VendorConfig) -> requests.Response:
    from integrations.hubspot.client import authorize
    from integrations.hubspot.settings import OWNERS_PATH

    authorize(session, config)
    return session.get(config.base_url.rstrip("/") + OWNERS_PATH, params={"limit": 1})


def _salesforce(session: VendorSession, config: VendorConfig) -> requests.Response:
    from integrations.salesforce.settings import TOKEN_PATH

    form = {"grant_type": "client_credentials", "client_id": _credential(config, "client_id"),
            "client_secret": _credential(config, "client_secret")}
    return session.request("POST", config.base_url.rstrip("/") + TOKEN_PATH, data=form,
                           idempotent=True)


def _stripe(session: VendorSession, config: VendorConfig) -> requests.Response:
    from integrations.stripe.settings import API_VERSION

    headers = {"Authorization": f"Bearer {_credential(config, 'api_key')}",
               "Stripe-Version": API_VERSION}
    return session.get(config.base_url.rstrip("/") + "/v1/customers", params={"limit": 1},
                       headers=headers)


def _zendesk(session: VendorSession, config: VendorConfig) -> requests.Response:
    from integrations.zendesk.auth import basic_auth_header
    from integrations.zendesk.settings import ORGANIZATIONS_EXPORT_PATH

    session.headers.update(basic_auth_header(config))
    return session.get(config.base_url.rstrip("/") + ORGANIZATIONS_EXPORT_PATH,
                       params={"start_time": 0, "per_page": 1})


def _product(session: VendorSession, config: VendorConfig) -> requests.Response:
    from integrations.usage.client import bearer_header
    from integrations.usage.settings import PARTITIONS_PATH

    session.headers.update(bearer_header(config))
    return session.get(config.base_url.rstrip("/") + PARTITIONS_PATH, params={"limit": 1})


def _slack(session: VendorSession, config: VendorConfig) -> requests.Response:
    headers = {"Authorization": f"Bearer {_credential(config, 'bot_token')}"}
    return session.request("POST", config.base_url.rstrip("/") + "/api/auth.test",
                           headers=headers, idempotent=True)


PROBES: dict[str, Callable[[VendorSession, VendorConfig], requests.Response]] = {
    "hubspot": _hubspot, "salesforce": _salesforce, "stripe": _stripe, "zendesk": _zendesk,
    "product": _product, "slack": _slack,
}
