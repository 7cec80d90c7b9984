"""Block Kit for activation's Slack messages, built with `slack_sdk.models` and checked.

`slack_sdk`'s block models validate as they serialise (header ≤ 150 characters, section text
≤ 3,000, ≤ 10 fields…), so a message that would make Slack answer `invalid_blocks` fails here,
at plan time, naming the rule — not at 3 a.m. in the delivery run. On top of the per-block
limits, `check_message` enforces the message-level ones (≤ 50 blocks, text ≤ 40,000
characters). Long free text is cut to fit rather than rejected: a CSM still gets the alert.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_MESSAGE_TEXT = 40_000
DIGEST_ITEMS = 20          # alerts listed one by one in a digest; the rest are counted


class BlockKitError(ValueError):
    """A message Slack would refuse; the message says which limit."""


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alert_blocks(*, title: str, headline: str, fields: Sequence[tuple[str, str]],
                 reasons: Sequence[str], footer: str, link: str | None) -> list[dict[str, Any]]:
    """One alert: header, what happened, key facts, why it fired, a CRM link, the rule."""
    why = "\n".join(f"• {reason}" for reason in reasons) or "• (no component data)"
    blocks: list[Block] = [
        HeaderBlock(text=clip(title, MAX_HEADER)),
        SectionBlock(text=MarkdownTextObject(text=clip(headline, MAX_SECTION_TEXT))),
    ]
    if fields:
        blocks.append(SectionBlock(fields=[
            MarkdownTextObject(text=clip(f"*{name}*\n{value}", MAX_FIELD_TEXT))
            for name, value in fields[:MAX_FIELDS]]))
    blocks.append(SectionBlock(text=MarkdownTextObject(
        text=clip(f"*Why this fired*\n{why}", MAX_SECTION_TEXT))))
    if link:
        blocks.append(ActionsBlock(elements=[ButtonElement(
            text="Open in CRM", url=link, action_id="open_crm_record")]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=clip(footer, MAX_FIELD_TEXT))]))
    return _serialise(blocks)


def digest_blocks(*, title: str, items: Sequence[tuple[str, str]], footer: str,
                  ) -> list[dict[str, Any]]:
    """One message for many alerts to one person: a line per alert (headline, why)."""
    blocks: list[Block] = [HeaderBlock(text=clip(title, MAX_HEADER))]
    for headline, why in items[:DIGEST_ITEMS]:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=clip(f"{headline}\n_{why}_", MAX_SECTION_TEXT))))
    if len(items) > DIGEST_ITEMS:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=f"…and {len(items) - DIGEST_ITEMS} more (see the CRM task queue).")))
    blocks += [DividerBlock(), ContextBlock(elements=[MarkdownTextObject(
        text=clip(footer, MAX_FIELD_TEXT))])]
    return _serialise(blocks)


def _serialise(blocks: list[Block]) -> list[dict[str, Any]]:
    try:
        rendered = [block.to_dict() for block in blocks]
    except SlackObjectFormationError as exc:
        raise BlockKitError(f"Block Kit: {exc}") from None
    check_message(rendered, "", per_block=False)      # to_dict validated every block
    return rendered


def check_message(blocks: list[dict[str, Any]], text: str, *, per_block: bool = True) -> None:
    """Raise BlockKitError unless Slack would accept `blocks` and `text` as one message.

    Checks the message-level limits and, with `per_block`, re-parses each block through
    `slack_sdk`'s models (so a stored payload is validated as a freshly built one is).
    """
    if len(blocks) > MAX_BLOCKS:
        raise BlockKitError(f"Block Kit: {len(blocks)} blocks; Slack allows {MAX_BLOCKS}")
    if len(text) > MAX_MESSAGE_TEXT:
        raise BlockKitError(f"Block Kit: text of {len(text)} characters; Slack allows "
                            f"{MAX_MESSAGE_TEXT}")
    for index, block in enumerate(blocks if per_block else ()):
        parsed = Block.parse(block)
        if parsed is None:
            raise BlockKitError(f"Block Kit: block {index} has no known type")
        try:
            parsed.validate_json()
        except SlackObjectFormationError as exc:
            raise BlockKitError(f"Block Kit: block {index}: {exc}") from None
    if len(json.dumps(blocks)) > MAX_MESSAGE_TEXT:
        raise BlockKitError("Block Kit: blocks exceed Slack's message size")
