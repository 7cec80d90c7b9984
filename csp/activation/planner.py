"""Findings into actions: who hears about each (routing), what the message says (Block Kit),
which CRM task it opens, and which health fields go back to the CRM.

Pure: the same snapshot and rules give the same actions with the same keys and payloads, so
`csp plan` twice in a row proposes nothing new. Messages are rendered here, at plan time,
so the plan holds the exact payload `csp apply` will send — and a message Slack would refuse
fails the plan, not the delivery. Personal data stays out: a message names the account and
the facts of its rule, never a contact's email or phone.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from csp.activation.actions import Action, Finding, action_key
from csp.activation.rules import Rule, RuleBook
from csp.activation.snapshot import Snapshot
from integrations.slack.blocks import alert_blocks, digest_blocks

RULE_TITLES = {
    "health_crossed_below": "Health below threshold", "sharp_drop": "Sharp health drop",
    "renewal_at_risk": "Renewal at risk", "payment_problem": "Payment problem",
    "activation_overdue": "Activation overdue",
    "lifecycle_touchpoint_due": "Lifecycle touchpoint due",
    "key_contact_gone": "Key contact gone or silent", "expansion_signal": "Expansion signal",
}


def plan_actions(snapshot: Snapshot, findings: list[Finding], book: RuleBook,
                 ) -> list[Action]:
    """Slack messages and CRM tasks for `findings` (before suppression and digests)."""
    actions: list[Action] = []
    for finding in findings:
        account = snapshot.accounts.get(finding.account_id)
        if account is None:
            continue                   # not in dim_accounts: nobody owns it, nothing to route
        rule = book.rules[finding.rule]
        if rule.channel == "slack":
            actions.extend(_slack_actions(snapshot, finding, rule, account, book))
        if rule.creates_crm_task and account.get("crm_account_id"):
            actions.append(_task_action(snapshot, finding, rule, account, book))
    return actions


def health_writes(snapshot: Snapshot, book: RuleBook,
                  last_written: dict[str, dict[str, str]]) -> list[Action]:
    """Health score, band and driver for each account whose values changed since last sent."""
    names = book.writeback.health_properties
    actions = []
    for account_id, today in sorted(snapshot.health_today.items()):
        account = snapshot.accounts.get(account_id)
        if account is None or not account.get("crm_account_id") or today["health_score"] is None:
            continue
        properties = {names["score"]: f"{float(today['health_score']):.1f}",
                      names["band"]: str(today.get("health_band") or ""),
                      names["driver"]: str(today.get("main_driver") or "")}
        if last_written.get(account_id) == properties:
            continue
        period = snapshot.as_of.isoformat()
        actions.append(Action(
            key=action_key("crm_field", "health_writeback", account_id, period),
            kind="crm_field", rule="health_writeback", account_id=account_id, period=period,
            as_of=snapshot.as_of, destination=f"company {account['crm_account_id']}",
            payload={"company_id": str(account["crm_account_id"]), "properties": properties}))
    return actions


def with_digests(actions: list[Action], digest_after: int, as_of: date,
                 ) -> tuple[list[Action], dict[str, str]]:
    """Fold each person's alerts into one digest when they exceed `digest_after`.

    Returns the actions to deliver and {folded action key: digest key}, so the outbox records
    each folded alert as delivered by its digest (cool-downs and re-plans still see it).
    """
    by_person: dict[str, list[Action]] = defaultdict(list)
    for action in actions:
        if action.kind == "slack" and action.payload["recipient"].get("email"):
            by_person[action.payload["recipient"]["email"]].append(action)
    folded: dict[str, str] = {}
    digests: list[Action] = []
    for email, own in sorted(by_person.items()):
        if len(own) <= digest_after:
            continue
        digest = _digest_action(email, own, as_of)
        digests.append(digest)
        folded.update({action.key: digest.key for action in own})
    kept = [action for action in actions if action.key not in folded]
    return kept + digests, folded


def _slack_actions(snapshot: Snapshot, finding: Finding, rule: Rule, account: dict[str, Any],
                   book: RuleBook) -> list[Action]:
    routing = book.routing
    fallback = routing.segment_channels.get(str(account.get("segment")),
                                            next(iter(routing.segment_channels.values())))
    actions = []
    for audience in rule.audience:
        target = {"cs_lead": routing.cs_lead, "sales": routing.sales,
                  "onboarding": routing.onboarding}.get(audience, "csm")
        if target == "csm" and account.get("csm_email"):
            recipient = {"email": str(account["csm_email"]).lower(), "fallback": fallback}
            destination = f"csm:{recipient['email']}"
        else:
            recipient = {"channel": fallback if target == "csm" else target}
            destination = recipient["channel"]
        text, blocks = _render(snapshot, finding, rule, account, book)
        actions.append(Action(
            key=action_key("slack", finding.rule, finding.account_id, finding.period, audience),
            kind="slack", rule=finding.rule, account_id=finding.account_id,
            period=finding.period, as_of=snapshot.as_of, destination=destination,
            payload={"recipient": recipient, "text": text, "blocks": blocks,
                     "headline": f"*{account.get('account_name')}*: {finding.headline}",
                     "why": "; ".join(finding.reasons)}))
    return actions


def _render(snapshot: Snapshot, finding: Finding, rule: Rule, account: dict[str, Any],
            book: RuleBook) -> tuple[str, list[dict[str, Any]]]:
    name = str(account.get("account_name") or finding.account_id)
    title = f"{RULE_TITLES[finding.rule]}: {name}"
    health = snapshot.health_today.get(finding.account_id, {})
    fields = [("ARR", _money(account.get("arr"))),
              ("Segment", str(account.get("segment") or "—").replace("_", " "))]
    if health.get("health_score") is not None:
        band = str(health.get("health_band") or "").replace("_", " ")
        fields.append(("Health", f"{float(health['health_score']):.0f} ({band})"))
    if health.get("score_change_7d") is not None:
        fields.append(("7-day change", f"{float(health['score_change_7d']):+.0f}"))
    fields.append(("Renewal", str(account.get("renewal_date") or "—")))
    link = (book.writeback.crm_record_url.format(crm_account_id=account["crm_account_id"])
            if account.get("crm_account_id") else None)
    footer = (f"Rule `{finding.rule}` · as of {snapshot.as_of.isoformat()} · "
              f"{rule.description}")
    blocks = alert_blocks(title=title, headline=finding.headline, fields=fields,
                          reasons=finding.reasons, footer=footer, link=link)
    return f"{title} — {finding.headline}", blocks


def _task_action(snapshot: Snapshot, finding: Finding, rule: Rule, account: dict[str, Any],
                 book: RuleBook) -> Action:
    assert rule.task is not None
    values = {"account_name": account.get("account_name") or finding.account_id,
              "renewal_date": account.get("renewal_date"), **finding.facts}
    subject = rule.task.subject.format_map(defaultdict(str, values))
    key = action_key("crm_task", finding.rule, finding.account_id, finding.period)
    body = "\n".join([finding.headline, "", "Why:", *(f"- {r}" for r in finding.reasons)])
    payload: dict[str, Any] = {
        "task_key": key, "subject": subject[:255], "body": body,
        "due_on": (snapshot.as_of + timedelta(days=rule.task.due_in_days)).isoformat(),
        "priority": rule.task.priority, "owner_id": account.get("csm_id"),
        "company_id": str(account["crm_account_id"]),
        "properties": {}}
    if finding.rule == "expansion_signal":
        payload["properties"] = {book.writeback.cs_sourced_lead_property: "true",
                                 "csp_csm_id": str(account.get("csm_id") or "")}
    return Action(key=key, kind="crm_task", rule=finding.rule, account_id=finding.account_id,
                  period=finding.period, as_of=snapshot.as_of,
                  destination=f"task for owner {account.get('csm_id')}", payload=payload)


def _digest_action(email: str, actions: list[Action], as_of: date) -> Action:
    first = actions[0]
    items = [(a.payload["headline"], a.payload["why"]) for a in actions]
    title = f"{len(actions)} accounts need you today"
    blocks = digest_blocks(title=title, items=items,
                           footer=f"Daily digest · as of {as_of.isoformat()} · one line per "
                                  f"alert; each has a CRM task where its rule creates one")
    # The folded keys are part of the period: a second digest the same day (new alerts after
    # a re-plan) gets its own key instead of colliding with the first.
    covered = hashlib.sha256("\n".join(sorted(a.key for a in actions)).encode()).hexdigest()
    period = f"{as_of.isoformat()}.{covered[:12]}"
    digest = replace(first, key=action_key("slack", "digest", email, period),
                     rule="digest", account_id="*", period=period,
                     payload={"recipient": first.payload["recipient"], "text": title,
                              "blocks": blocks, "headline": title,
                              "why": f"{len(actions)} alerts"})
    return digest


def _money(value: Any) -> str:
    if value is None:
        return "—"
    return f"{Decimal(str(value)):,.0f}"
