"""Slack for activation: the Web API client (bot token), incoming webhooks, Block Kit."""

from integrations.slack.client import SlackApiError, SlackClient
from integrations.slack.webhook import SlackWebhook, WebhookError

__all__ = ["SlackApiError", "SlackClient", "SlackWebhook", "WebhookError"]
