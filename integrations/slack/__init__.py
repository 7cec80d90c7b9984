"""Slack for activation: the Web API client (bot token), incoming webhooks, Block Kit."""

from integrations.slack.client import SlackApiError, SlackClient

__all__ = ["SlackApiError", "SlackClient"]
