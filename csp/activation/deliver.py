"""How each kind of outbox row reaches its vendor, and how it is found there again.

A `Channel` has two operations: `send` (may raise `AmbiguousWriteError`) and `find` (did an
earlier attempt land? returns the receipt or None). The apply loop calls `find` before
resending anything that was tried before, which is what makes delivery exactly-once across
dropped connections and killed runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Protocol

from csp.activation.outbox import OutboxRow
from integrations.crm_writeback import HubSpotWriteback, TaskWrite
from integrations.slack import SlackClient, SlackWebhook
from integrations.slack.blocks import check_message


class LookupUnavailable(Exception):
    """The vendor offers no way to tell whether an earlier attempt landed."""


class Channel(Protocol):
    """Delivery of one kind of action (`find` may raise LookupUnavailable)."""

    def send(self, row: OutboxRow) -> str: ...

    def find(self, row: OutboxRow) -> str | None: ...


class SlackChannel:
    """Slack messages: to the account owner's DM (by email), else the fallback channel."""

    def __init__(self, client: SlackClient) -> None:
        self.client = client
        self._conversations: dict[str, str] = {}

    def conversation(self, recipient: Mapping[str, str]) -> str:
        """The conversation a recipient resolves to: a DM when Slack knows the email."""
        if recipient.get("email"):
            user = self.client.user_id(recipient["email"])
            if user is not None:
                if user not in self._conversations:
                    self._conversations[user] = self.client.open_dm(user)
                return self._conversations[user]
            return recipient["fallback"]
        return recipient["channel"]

    def send(self, row: OutboxRow) -> str:
        # The blocks were validated when planned; a stored payload still gets the size checks.
        check_message(row.payload["blocks"], row.payload["text"], per_block=False)
        channel, ts = self.client.post(self.conversation(row.payload["recipient"]),
                                       text=row.payload["text"],
                                       blocks=row.payload["blocks"], outbox_key=row.key)
        return f"{channel}:{ts}"

    def find(self, row: OutboxRow) -> str | None:
        channel = self.conversation(row.payload["recipient"])
        since = row.first_attempt_at or datetime.now(UTC).replace(tzinfo=None)
        ts = self.client.find_message(channel, row.key,
                                      since.replace(tzinfo=UTC).timestamp())
        return f"{channel}:{ts}" if ts else None


class SlackWebhookChannel:
    """Slack messages through an incoming webhook (all to the webhook's one channel).

    A webhook returns no message id and a webhook URL cannot read history, so an attempt
    whose outcome is unknown cannot be checked: `find` says so, and apply holds the row for
    an operator rather than risk a duplicate.
    """

    def __init__(self, webhook: SlackWebhook) -> None:
        self.webhook = webhook

    def send(self, row: OutboxRow) -> str:
        # The blocks were validated when planned; a stored payload still gets the size checks.
        check_message(row.payload["blocks"], row.payload["text"], per_block=False)
        self.webhook.post(text=row.payload["text"], blocks=row.payload["blocks"])
        return "webhook"

    def find(self, row: OutboxRow) -> str | None:
        raise LookupUnavailable("an incoming webhook cannot look a message up; check the "
                                "channel, then re-queue the row by hand if it is missing")


class HubSpotTaskChannel:
    """CRM tasks in HubSpot, keyed by the outbox key."""

    def __init__(self, writeback: HubSpotWriteback) -> None:
        self.writeback = writeback

    def send(self, row: OutboxRow) -> str:
        return self.writeback.create_task(task_from_payload(row.key, row.payload))

    def find(self, row: OutboxRow) -> str | None:
        return self.writeback.find_task(row.key)


def task_from_payload(key: str, payload: Mapping[str, Any]) -> TaskWrite:
    return TaskWrite(key=key, subject=payload["subject"], body=payload["body"],
                     due_on=date.fromisoformat(payload["due_on"]),
                     priority=payload["priority"],
                     owner_id=str(payload["owner_id"]) if payload.get("owner_id") else None,
                     company_id=str(payload["company_id"]),
                     extra_properties=dict(payload.get("properties") or {}))
