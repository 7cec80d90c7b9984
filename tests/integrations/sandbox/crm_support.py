"""Test support shared by the HubSpot and Salesforce tests: canonical records and a caller.

Each test builds its own small world from hand-written canonical records, so exact cases (a
departed contact, a company missing its Stripe id, equal update times) are pinned rather than
hoped for from the generator. Times are whole seconds after `T0` unless a test needs
milliseconds. `Caller` sends requests through a `SandboxServer`'s full dispatch (auth, rate
limits, faults, routing) without a socket round trip, and decodes the answer from its wire
bytes, so what tests see is exactly what a connector would receive.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from integrations.sandbox.domain import ACCOUNT, CONTACT, CSM, DEAL
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.store import WorldWriter

T0 = 1_709_287_200.0              # 2024-03-01T10:00:00Z


def csm(key: int = 1, **changes: Any) -> dict[str, Any]:
    return {"key": key, "first_name": "Ada", "last_name": f"Owner{key}",
            "email": f"csm{key}@vendor.example", "team": "enterprise", "created_at": T0,
            "hubspot_owner_id": str(52550150 + key),
            "salesforce_user_id": f"0055e{key:010d}AAA",
            "slack_user_id": f"U{key:08d}", "zendesk_agent_id": 900 + key, **changes}


def account(key: int, **changes: Any) -> dict[str, Any]:
    return {"key": key, "name": f"Acme {key}", "domain": f"acme{key}.example",
            "billing_domain": f"acme{key}.example", "industry": "Financial Services",
            "employees": 50 + key, "country": "DE", "segment": "mid_market", "owner_key": 1,
            "onboarding_owner_key": 1, "lifecycle_stage": "customer",
            "customer_since": "2023-01-01", "created_at": T0 + key, "updated_at": T0 + 1000 + key,
            "workspace_id": f"ws_{key:04d}", "hubspot_company_id": str(7000000000 + key),
            "salesforce_account_id": f"0015e{key:010d}AAA", "stripe_customer_id": f"cus_{key:06d}",
            "zendesk_organization_id": 3000 + key, "stripe_id_in_crm": True,
            "zendesk_external_id": f"ws_{key:04d}", "currency": "eur",
            "billing_email": f"billing@acme{key}.example", "plan": "growth", "seats": 20,
            "renewal_date": "2025-01-01", **changes}


def contact(key: int, account_key: int, **changes: Any) -> dict[str, Any]:
    return {"key": key, "account_key": account_key, "first_name": "Cleo",
            "last_name": f"Contact{key}", "email": f"cleo{key}@acme{account_key}.example",
            "title": "VP Operations", "role": "champion", "created_at": T0 + key,
            "updated_at": T0 + 2000 + key, "last_engaged_at": T0 + 1500, "left_at": None,
            "hubspot_contact_id": str(100 + key), "salesforce_contact_id": f"0035e{key:010d}AAA",
            "zendesk_user_id": 5000 + key, **changes}


def deal(key: int, account_key: int, **changes: Any) -> dict[str, Any]:
    return {"key": key, "account_key": account_key, "owner_key": 1, "name": f"Renewal {key}",
            "deal_type": "renewal", "stage": "closed_won", "amount": 1_200_000,
            "close_date": "2024-02-01", "created_at": T0 + key, "updated_at": T0 + 3000 + key,
            "hubspot_deal_id": str(6744190000 + key),
            "salesforce_opportunity_id": f"0065e{key:010d}AAA", **changes}


def write_world(path: Path, *, accounts: int = 5, contacts_per_account: int = 1,
                extra: Sequence[tuple[str, dict[str, Any]]] = ()) -> Path:
    """A world with one CSM, `accounts` companies, their contacts and one deal each."""
    writer = WorldWriter(path)
    writer.put(CSM, csm())
    for key in range(1, accounts + 1):
        writer.put(ACCOUNT, account(key))
    contact_key = 0
    for account_key in range(1, accounts + 1):
        for _ in range(contacts_per_account):
            contact_key += 1
            writer.put(CONTACT, contact(contact_key, account_key))
        writer.put(DEAL, deal(account_key, account_key))
    for kind, record in extra:
        writer.put(kind, record)
    writer.close()
    return path


@dataclass
class Answer:
    """A decoded response: status, JSON body (None when empty) and headers."""

    status: int
    body: Any
    headers: dict[str, str]


class Caller:
    """Calls one vendor of a (not necessarily started) sandbox server with a fixed token."""

    def __init__(self, server: SandboxServer, vendor: str, token: str | None) -> None:
        self.server = server
        self.vendor = vendor
        self.token = token

    def __call__(self, method: str, path: str, *, query: dict[str, Any] | None = None,
                 body: Any = None, headers: dict[str, str] | None = None,
                 token: str | None = None, anonymous: bool = False,
                 form: dict[str, str] | None = None) -> Answer:
        """One request; `token` replaces the caller's, `anonymous` sends none."""
        message = Message()
        bearer = None if anonymous else (token or self.token)
        if bearer is not None:
            message["Authorization"] = f"Bearer {bearer}"
        for name, value in (headers or {}).items():
            message[name] = value
        raw = b""
        if body is not None:
            raw = json.dumps(body).encode()
        elif form is not None:
            raw = urlencode(form).encode()
        target = f"/{self.vendor}{path}" + (f"?{urlencode(query, doseq=True)}" if query else "")
        response = self.server.dispatch(method, target, message, raw)
        encoded = response.encoded()
        return Answer(response.status, json.loads(encoded) if encoded else None,
                      dict(response.headers))
