"""Block Kit: every rule's message passes slack_sdk's validation and Slack's limits, and says
why it fired; oversized content is clipped to fit, not rejected."""

from __future__ import annotations

import pytest

from csp.activation.db import Db
from csp.activation.plan import plan
from csp.activation.rules import RULE_NAMES, RuleBook
from integrations.sandbox.vendors.slack_blocks import block_errors
from integrations.slack.blocks import (
    MAX_HEADER,
    BlockKitError,
    alert_blocks,
    check_message,
    digest_blocks,
)


def test_every_rule_renders_valid_block_kit_that_says_why(db: Db, rules: RuleBook) -> None:
    report = plan(db, rules)
    messages = [a for a in report.new if a.kind == "slack"]
    slack_rules = {name for name in RULE_NAMES if rules.rules[name].channel == "slack"}
    assert {a.rule for a in messages} == slack_rules
    for action in messages:
        blocks, text = action.payload["blocks"], action.payload["text"]
        check_message(blocks, text)
        assert block_errors(blocks) == []
        why = next(b["text"]["text"] for b in blocks if b["type"] == "section"
                   and b.get("text", {}).get("text", "").startswith("*Why this fired*"))
        assert why.count("•") >= 1 and "(no component data)" not in why, action.key
        assert "@" not in str(blocks), "no email address in a message"


def test_long_content_is_clipped_to_slacks_limits() -> None:
    blocks = alert_blocks(title="T" * 500, headline="H" * 5000, fields=[("f", "v" * 3000)] * 12,
                          reasons=["r" * 400] * 20, footer="x", link="https://example.com")
    check_message(blocks, "")
    assert block_errors(blocks) == []
    assert len(blocks[0]["text"]["text"]) == MAX_HEADER
    digest = digest_blocks(title="digest", items=[("line", "why")] * 80, footer="f")
    assert block_errors(digest) == [] and len(digest) <= 50


def test_a_message_slack_would_refuse_is_rejected() -> None:
    with pytest.raises(BlockKitError, match="block 0: text attribute cannot exceed 150"):
        check_message([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
                      "")
    with pytest.raises(BlockKitError, match="51 blocks"):
        check_message([{"type": "divider"}] * 51, "")
