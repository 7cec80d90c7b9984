"""Activation wired to settings: the warehouse connection and the vendors' clients.

The CLI and the Prefect flow both go through here, so `csp plan`/`csp apply` and the
scheduled flow build their sessions, limiters and credentials the same way. Tokens come from
`Settings` (`Secret`), are handed to the clients' auth headers and are never printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from csp.activation.apply import ApplyReport, apply
from csp.activation.db import Db
from csp.activation.deliver import (
    Channel,
    HubSpotTaskChannel,
    SlackChannel,
    SlackWebhookChannel,
)
from csp.activation.plan import PlanReport, plan
from csp.activation.rules import DEFAULT_RULES_PATH, load_rules
from csp.settings import Settings
from csp.warehouse import Warehouse
from integrations.crm_writeback import HubSpotWriteback
from integrations.http import create_session
from integrations.slack import SlackClient, SlackWebhook
from integrations.sources import shared_limiter


class ActivationConfigError(ValueError):
    """Settings and rules disagree (e.g. webhook transport without a webhook URL)."""


@contextmanager
def open_db(warehouse: Warehouse) -> Iterator[Db]:
    conn = warehouse.connect()
    try:
        yield Db(conn, warehouse.engine)
    finally:
        conn.close()


def run_plan(warehouse: Warehouse, *, rules_path: Path = DEFAULT_RULES_PATH,
             as_of: date | None = None) -> PlanReport:
    """Plan into the outbox of `warehouse`."""
    book = load_rules(rules_path)
    with open_db(warehouse) as db:
        return plan(db, book, as_of)


def run_apply(warehouse: Warehouse, settings: Settings, *,
              rules_path: Path = DEFAULT_RULES_PATH) -> ApplyReport:
    """Deliver the outbox's pending rows through the configured Slack and CRM."""
    transport = load_rules(rules_path).routing.transport
    slack_config = settings.vendors["slack"]
    if transport == "webhook":
        if settings.slack_webhook_url is None:
            raise ActivationConfigError("routing.transport is webhook but "
                                        "CSP_SLACK_WEBHOOK_URL is not set")
        slack_session = create_session("slack", limiter=shared_limiter(slack_config),
                                       secret_path=True)
        slack: Channel = SlackWebhookChannel(
            SlackWebhook(slack_session, settings.slack_webhook_url.reveal()))
    else:
        slack_session = create_session("slack", limiter=shared_limiter(slack_config))
        slack = SlackChannel(SlackClient(slack_session, slack_config.base_url,
                                         slack_config.credentials["bot_token"].reveal()))
    channels: dict[str, Channel] = {"slack": slack}
    health = None
    sessions = {"slack": slack_session}
    if settings.crm == "hubspot" and "hubspot" in settings.vendors:
        crm_config = settings.vendors["hubspot"]
        crm_session = create_session("hubspot", limiter=shared_limiter(crm_config))
        health = HubSpotWriteback(crm_session, crm_config.base_url,
                                  crm_config.credentials["token"].reveal())
        channels["crm_task"] = HubSpotTaskChannel(health)
        sessions["hubspot"] = crm_session
    with open_db(warehouse) as db:
        report = apply(db, channels, health)
    report.http = {name: session.stats.snapshot() for name, session in sessions.items()}
    return report
