"""`csp demo`: the whole product on the embedded default, end to end, on this machine.

Stages that exist run for real, in order: simulate the company, serve it through the vendors'
APIs on loopback, and read every vendor's API back over HTTP with the configured
credentials. Later stages (ingest, transform, validate, activate) join here as they land.
"""

from __future__ import annotations

import argparse
import base64
import time
from typing import Any

import requests

from csp.cli import UserError, settings_or_exit
from csp.commands.sandbox import ensure_world
from csp.settings import Settings

# One read per vendor, as a connector's first request would make it: (vendor, method, path,
# JSON body, a function counting the records on the page).
PROBES: tuple[tuple[str, str, str, Any, Any], ...] = (
    ("hubspot", "GET", "/crm/v3/objects/companies?limit=100", None,
     lambda body: len(body["results"])),
    ("stripe", "GET", "/v1/subscriptions?status=all&limit=100", None,
     lambda body: len(body["data"])),
    ("zendesk", "GET", "/api/v2/incremental/tickets/cursor.json?start_time=0", None,
     lambda body: len(body["tickets"])),
    ("product", "GET", "/v1/usage/partitions", None,
     lambda body: len(body["partitions"])),
    ("slack", "POST", "/api/auth.test", {}, lambda body: int(body["ok"])),
)


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
    started = time.monotonic()
    world = ensure_world(args)
    try:
        server = SandboxServer(world, port=settings.sandbox_port, secrets=sandbox_secrets())
    except OSError as exc:
        raise UserError(f"port {settings.sandbox_port} is busy ({exc.strerror}); set "
                        f"CSP_SANDBOX_PORT to a free port") from None
    with server:
        print(f"\nsandbox up at {server.base_url}; reading every vendor API over HTTP:")
        for vendor, method, path, payload, count in PROBES:
            body = _call(settings, vendor, method, path, payload)
            print(f"  {vendor:<9} {method} {path:<60} {count(body):>5} records")
    print(f"\ndone in {time.monotonic() - started:.1f}s. Where to look:")
    print(f"  world (SQLite)   {world}")
    print(f"  serve it         csp sandbox serve --dir {world.parent}")
    print(f"  advance a day    csp sandbox step 1 --dir {world.parent}")
    return 0


def _call(settings: Settings, vendor: str, method: str, path: str, payload: Any) -> Any:
    config = settings.vendors[vendor]
    response = requests.request(method, config.base_url + path, json=payload,
                                headers=auth_headers(vendor, config.credentials), timeout=30)
    if response.status_code >= 400:
        raise UserError(f"{vendor} answered {response.status_code} to {method} {path}")
    return response.json()


def auth_headers(vendor: str, credentials: Any) -> dict[str, str]:
    """Each vendor's own way of presenting a credential."""
    if vendor == "zendesk":
        pair = f"{credentials['email'].reveal()}/token:{credentials['api_token'].reveal()}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    secret = next(iter(credentials.values())).reveal()
    return {"Authorization": f"Bearer {secret}"}
