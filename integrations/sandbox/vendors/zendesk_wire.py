"""Wire helpers shared by the Zendesk, Slack and product-feed modules of the sandbox.

Timestamps, opaque cursors, bearer tokens, Retry-After values and the simulated clock are
needed by all three vendors; they live here once rather than copied into each module. The
module carries the `zendesk_` prefix only because each sandbox engineer owns files by vendor
prefix; nothing in it is Zendesk-specific.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import time
from datetime import UTC, date, datetime, timedelta

from integrations.sandbox.routing import BadRequest, Request
from integrations.sandbox.store import WorldReader

DAY_SECONDS = 86_400


def iso_utc(seconds: float) -> str:
    """POSIX seconds as `2024-03-01T10:00:00Z` (whole seconds, the form all three vendors use)."""
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_or_none(seconds: float | None) -> str | None:
    """`iso_utc`, passing None through (vendors serialise an unset time as JSON null)."""
    return None if seconds is None else iso_utc(seconds)


def parse_iso(text: str, *, name: str) -> float:
    """An ISO-8601 time (`Z` or offset; a bare date means midnight UTC) as POSIX seconds.

    Raises BadRequest naming the parameter, so a connector sees which argument was wrong.
    """
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO-8601 time, got {text!r}",
                         code="invalid_parameter") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def day_start(day: str) -> float:
    """POSIX seconds of midnight UTC at the start of an ISO day."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC).timestamp()


def world_now(world: WorldReader) -> float:
    """The simulated "now": the end of the last simulated day, or real time for a bare world.

    The generator records its clock (last simulated day) in `meta`; routes that compare
    against "now" (Zendesk's too-recent start_time) must use the world's clock, or a world
    generated up to a past date would look stale and one ending in the future would be empty.
    Worlds built by hand in tests carry no clock and use real time.
    """
    clock = world.meta("clock")
    if not clock:
        return time.time()
    end = date.fromisoformat(str(clock)[:10]) + timedelta(days=1)
    return datetime.combine(end, datetime.min.time(), UTC).timestamp()


def encode_token(text: str) -> str:
    """An opaque, URL-safe cursor token for `text` (base64, as the vendors' cursors look)."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def decode_token(token: str, *, code: str) -> str:
    """The text inside a cursor token; BadRequest with the vendor's `code` if it is not one."""
    try:
        padded = token + "=" * (-len(token) % 4)
        return base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise BadRequest("invalid cursor", code=code) from None


def secret_equals(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so response timing does not leak how much of a token matched."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, token = (request.header("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def retry_after_header(seconds: float) -> str:
    """Retry-After as whole seconds, rounded up so a client that obeys it is never early."""
    return str(max(1, math.ceil(seconds)))
