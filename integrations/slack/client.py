"""Slack Web API calls activation makes: find a person, post a message, find it again.

Built on the shared `VendorSession` (timeouts, retries with jitter, `Retry-After`, the
client-side limiter, `AmbiguousWriteError` when a post may have landed). Every message
carries Slack message metadata naming its outbox key, so after an ambiguous failure — or a
run killed between the post and recording its receipt — `find_message` reads the
conversation's history and answers whether the message is already there: the outbox resends
only what Slack provably does not have.

Slack answers HTTP 200 with `{"ok": false, "error": ...}` for most failures; `SlackApiError`
carries that code (never the token, never the payload).
"""

from __future__ import annotations

from typing import Any

from integrations.http import VendorSession

METADATA_EVENT = "csp_alert"
HISTORY_PAGE = 200
# How far before an action's first attempt to search the history: Slack's `ts` is the
# server's clock, ours may be a little off.
CLOCK_SKEW_SECONDS = 300


class SlackApiError(Exception):
    """Slack refused a call (`ok: false`); `code` is Slack's error code."""

    def __init__(self, method: str, code: str) -> None:
        super().__init__(f"slack: {method} failed: {code}")
        self.method = method
        self.code = code


class SlackClient:
    """The bot-token Web API client; `users.lookupByEmail` answers are cached per client."""

    def __init__(self, session: VendorSession, base_url: str, token: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.session.headers["Authorization"] = f"Bearer {token}"
        self._users: dict[str, str | None] = {}

    def call(self, method: str, *, write: bool = False, repeatable: bool = False,
             **arguments: Any) -> dict[str, Any]:
        """One Web API method; JSON body for writes, query string for reads.

        `repeatable` marks a write that may be resent after an ambiguous failure because
        repeating it changes nothing (conversations.open returns the same DM every time).
        """
        url = f"{self.base_url}/api/{method}"
        if write:
            response = self.session.request("POST", url, json=arguments,
                                            idempotent=True if repeatable else None)
        else:
            response = self.session.get(url, params=arguments)
        self.session.ensure_ok(response)
        body = response.json()
        if not body.get("ok"):
            raise SlackApiError(method, str(body.get("error") or "unknown_error"))
        return dict(body)

    def user_id(self, email: str) -> str | None:
        """The Slack user with this email, or None when the workspace has none (cached)."""
        key = email.strip().lower()
        if key not in self._users:
            try:
                self._users[key] = self.call("users.lookupByEmail", email=key)["user"]["id"]
            except SlackApiError as exc:
                if exc.code != "users_not_found":
                    raise
                self._users[key] = None
        return self._users[key]

    def open_dm(self, user_id: str) -> str:
        """The direct-message conversation id with `user_id` (the same on every call)."""
        return str(self.call("conversations.open", write=True, repeatable=True,
                                 users=user_id)["channel"]["id"])

    def post(self, channel: str, *, text: str, blocks: list[dict[str, Any]],
             outbox_key: str) -> tuple[str, str]:
        """Post one message; returns (conversation id, ts). May raise AmbiguousWriteError."""
        body = self.call("chat.postMessage", write=True, channel=channel, text=text,
                         blocks=blocks, unfurl_links=False,
                         metadata={"event_type": METADATA_EVENT,
                                   "event_payload": {"outbox_key": outbox_key}})
        return str(body["channel"]), str(body["ts"])

    def find_message(self, channel: str, outbox_key: str, since: float) -> str | None:
        """The `ts` of the message carrying `outbox_key` in `channel` since `since`, or None."""
        latest: str | None = None
        while True:
            arguments: dict[str, Any] = {"channel": channel, "include_all_metadata": "true",
                                         "oldest": f"{since - CLOCK_SKEW_SECONDS:.6f}",
                                         "limit": HISTORY_PAGE}
            if latest:
                arguments["latest"] = latest
            body = self.call("conversations.history", **arguments)
            messages = body.get("messages") or []
            for message in messages:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get("outbox_key") == outbox_key:
                    return str(message["ts"])
            if not body.get("has_more") or not messages:
                return None
            latest = str(messages[-1]["ts"])
