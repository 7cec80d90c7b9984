"""The authenticated Zendesk session: API-token basic auth on the shared HTTP session.

Zendesk's API tokens are presented as HTTP basic auth with the user `{email}/token` and the
token as the password. The secret is revealed here only, into the session's default headers,
which `integrations.http` never logs or puts into an error.
"""

from __future__ import annotations

import base64
from typing import Any

from csp.settings import VendorConfig
from integrations.http import VendorSession, create_session
from integrations.zendesk.settings import VENDOR


class MissingCredentialError(Exception):
    """A credential the source needs is not configured; names the source and the credential."""


def basic_auth_header(config: VendorConfig) -> dict[str, str]:
    """`Authorization: Basic base64("{email}/token:{api_token}")` from the config's secrets."""
    for name in ("email", "api_token"):
        if name not in config.credentials:
            raise MissingCredentialError(f"{VENDOR}: credential {name!r} is not configured")
    pair = (f"{config.credentials['email'].reveal()}/token:"
            f"{config.credentials['api_token'].reveal()}")
    return {"Authorization": "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")}


def zendesk_session(config: VendorConfig, **options: Any) -> VendorSession:
    """A `VendorSession` for Zendesk, authenticated and limited to the configured rate.

    `options` go to `create_session` (`retry`, `timeout`, or a shared `limiter`, which then
    replaces the config's rate limit).
    """
    if "limiter" not in options:
        options["rate_limit"] = config.rate_limit
    return create_session(VENDOR, headers=basic_auth_header(config), **options)
