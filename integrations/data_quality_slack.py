"""Data-quality notices for the data team's Slack channel (not the CSMs' alert channels).

A failed validation is the data team's problem: CSMs must not be paged about a broken load,
and the data team must not learn about it from a CSM. The notice goes to
`CSP_DATA_TEAM_SLACK_CHANNEL` (default `#data-quality`) with the bot token, or to
`CSP_DATA_TEAM_SLACK_WEBHOOK_URL` when one is set (the URL is a secret: its path is masked
in every log line and error, as for any Slack webhook). Sent through the project's HTTP
session: timeouts, retries on 429/5xx, the Slack rate limit.
"""

from __future__ import annotations

from collections.abc import Iterable

from csp.settings import Settings
from expectations.verdicts import SuiteVerdict
from integrations.http import create_session

MAX_LINES = 12


class NotificationError(Exception):
    """Slack refused the notice; the message names Slack's error code, never a secret."""


def notice_text(verdicts: Iterable[SuiteVerdict], docs_hint: str) -> str:
    """The message: failed suites first, then up to MAX_LINES failures."""
    verdicts = list(verdicts)
    failed = [verdict for verdict in verdicts if not verdict.success]
    lines = [f":rotating_light: Data validation failed: {', '.join(v.suite for v in failed)} "
             f"({len(failed)} of {len(verdicts)} suites). Activation is held back."]
    failures = [failure for verdict in failed for failure in verdict.failures]
    lines += [f"• `{f.suite}` {f.asset}: {f.expectation}"
              f"{f' [{f.column}]' if f.column else ''} — observed {f.observed}"
              for f in failures[:MAX_LINES]]
    if len(failures) > MAX_LINES:
        lines.append(f"… and {len(failures) - MAX_LINES} more")
    lines.append(docs_hint)
    return "\n".join(lines)


def send_notice(settings: Settings, text: str) -> None:
    """Post `text` to the data team's channel (webhook when configured)."""
    slack = settings.vendors["slack"]
    webhook = settings.data_team_slack_webhook_url
    if webhook is not None:
        session = create_session("slack", rate_limit=slack.rate_limit, secret_path=True,
                                 check_json=False)
        response = session.ensure_ok(session.post(webhook.reveal(), json={"text": text}))
        if response.text.strip() != "ok":
            raise NotificationError(f"Slack webhook answered {response.text.strip()[:80]!r}")
        return
    session = create_session("slack", rate_limit=slack.rate_limit, headers={
        "Authorization": f"Bearer {slack.credentials['bot_token'].reveal()}"})
    response = session.ensure_ok(session.post(
        f"{slack.base_url}/api/chat.postMessage",
        json={"channel": settings.data_team_slack_channel, "text": text}))
    answer = response.json()
    if not answer.get("ok"):
        raise NotificationError(f"Slack chat.postMessage to {settings.data_team_slack_channel} "
                                f"failed: {answer.get('error', 'unknown error')}")
