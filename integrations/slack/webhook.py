"""Slack incoming webhooks: post a Block Kit message to the one channel a webhook is bound to.

A webhook URL is a secret by itself (anyone holding it can post), so its session is created
with `secret_path=True`: errors and debug logs show `/services/***`, never the path. Slack
answers a webhook with plain text (`ok`, or an error code) and no message id, so a message
posted this way cannot be looked up afterwards — see `WebhookChannel` for what that means
for an ambiguous failure.
"""

from __future__ import annotations

from typing import Any

from integrations.http import VendorSession


class WebhookError(Exception):
    """Slack refused the webhook post; `code` is its plain-text answer (never the URL)."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"slack: webhook post failed: HTTP {status} {code}")
        self.code = code


class SlackWebhook:
    """One incoming webhook."""

    def __init__(self, session: VendorSession, url: str) -> None:
        if not session.secret_path:
            raise ValueError("a webhook session must be created with secret_path=True")
        self.session = session
        self._url = url

    def post(self, *, text: str, blocks: list[dict[str, Any]]) -> None:
        """Post; may raise AmbiguousWriteError (the message may have been posted)."""
        response = self.session.post(self._url, json={"text": text, "blocks": blocks})
        if response.status_code != 200:
            raise WebhookError(response.status_code, response.text.strip()[:100])
