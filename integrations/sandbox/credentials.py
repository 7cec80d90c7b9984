"""The credentials the sandbox accepts, one set per vendor.

They are test credentials of a local emulator, not secrets; they are still never logged, so
the code path that handles them is the same one that handles real tokens. Override any of
them with `CSP_SANDBOX_<NAME>` (upper case) when serving.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DEFAULT_SECRETS: Mapping[str, str] = {
    "hubspot_token": "pat-sandbox-hubspot-0000",
    "salesforce_client_id": "sandbox-connected-app",
    "salesforce_client_secret": "sandbox-connected-app-secret",
    "salesforce_access_token": "00DSANDBOX!sandbox-session-token",
    "stripe_api_key": "sk_test_sandbox_0000",
    "zendesk_email": "support-ops@sandbox.example",
    "zendesk_api_token": "sandbox-zendesk-token-0000",
    "slack_bot_token": "xoxb-sandbox-0000",
    "slack_webhook_path": "T0SANDBOX/B0SANDBOX/sandboxwebhooksecret0000",
    "product_token": "sandbox-product-token-0000",
}


def sandbox_secrets(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The defaults, each overridable by `CSP_SANDBOX_<NAME>`."""
    return {name: environ.get(f"CSP_SANDBOX_{name.upper()}", value)
            for name, value in DEFAULT_SECRETS.items()}
