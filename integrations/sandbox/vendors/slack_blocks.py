"""Block Kit checks the sandbox's Slack applies to `blocks`, with Slack's published limits.

Slack rejects a message whose blocks break its layout rules (`invalid_blocks`, with an
`errors` list naming the offending block). The sandbox checks the rules an alert builder
most plausibly breaks — counts, lengths, required fields, text-object types — so a connector
tuned on the sandbox does not fail on first contact with Slack.
"""

from __future__ import annotations

import json
from typing import Any

MAX_BLOCKS = 50
MAX_BLOCK_ID = 255
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_SECTION_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
TEXT_TYPES = ("plain_text", "mrkdwn")
BLOCK_TYPES = ("actions", "context", "divider", "file", "header", "image", "input",
               "markdown", "rich_text", "section", "video")


class BlocksFormatError(ValueError):
    """`blocks` is not a JSON array of objects (Slack: `invalid_blocks_format`)."""


def parse_blocks(raw: Any) -> list[Any] | None:
    """`blocks` as given: a JSON array, or a string holding one (form-encoded requests)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise BlocksFormatError("blocks is not valid JSON") from None
    if not isinstance(raw, list):
        raise BlocksFormatError("blocks must be a JSON array")
    return raw


def block_errors(blocks: list[Any]) -> list[str]:
    """Every rule the blocks break, worded like Slack's `errors` (empty when valid)."""
    if len(blocks) > MAX_BLOCKS:
        return [f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]"]
    errors: list[str] = []
    seen_ids: set[str] = set()
    for index, block in enumerate(blocks):
        pointer = f"[json-pointer:/blocks/{index}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type {pointer}")
            continue
        if block["type"] not in BLOCK_TYPES:
            errors.append(f"unsupported type: {block['type']} {pointer}")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > MAX_BLOCK_ID:
                errors.append(f"must be a string of at most {MAX_BLOCK_ID} characters "
                              f"[json-pointer:/blocks/{index}/block_id]")
            elif block_id in seen_ids:
                errors.append(f"duplicate block_id {block_id} {pointer}")
            else:
                seen_ids.add(block_id)
        errors.extend(f"{problem} {pointer}" for problem in _type_errors(block))
    return errors


def _text_error(obj: Any, *, limit: int, plain_only: bool = False) -> str | None:
    if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES:
        return "text must be a text object of type plain_text or mrkdwn"
    if plain_only and obj["type"] != "plain_text":
        return "text must be plain_text"
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return "text object requires a non-empty text"
    if len(text) > limit:
        return f"text must be at most {limit} characters"
    return None


def _type_errors(block: dict[str, Any]) -> list[str]:
    """The rules specific to one block type."""
    kind = block["type"]
    if kind == "section":
        return _section_errors(block)
    if kind == "header":
        problem = _text_error(block.get("text"), limit=MAX_HEADER_TEXT, plain_only=True)
        return [problem] if problem else []
    if kind in ("context", "actions"):
        limit = MAX_CONTEXT_ELEMENTS if kind == "context" else MAX_ACTIONS_ELEMENTS
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= limit:
            return [f"{kind} requires 1 to {limit} elements"]
        return []
    if kind == "image":
        has_source = isinstance(block.get("image_url"), str) or "slack_file" in block
        if not has_source or not isinstance(block.get("alt_text"), str):
            return ["image requires image_url (or slack_file) and alt_text"]
    return []


def _section_errors(block: dict[str, Any]) -> list[str]:
    text, fields = block.get("text"), block.get("fields")
    if text is None and fields is None:
        return ["section requires text or fields"]
    errors = []
    if text is not None and (problem := _text_error(text, limit=MAX_SECTION_TEXT)):
        errors.append(problem)
    if fields is not None:
        if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_SECTION_FIELDS:
            errors.append(f"section fields must hold 1 to {MAX_SECTION_FIELDS} text objects")
        else:
            errors.extend(problem for field in fields
                          if (problem := _text_error(field, limit=2000)))
    return errors
