"""What a vendor module gives the sandbox server: its routes, auth, error and rate-limit shapes.

The server core (`server`) owns sockets, rate limiting and fault injection; it asks the vendor
only for what differs between vendors: how a request authenticates, what a 401/429/5xx looks
like, which headers advertise the limit, and where the records sit in a list response (so
schema-drift faults can reach them).
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qs

from integrations.rate_window import RateLimit
from integrations.sandbox.store import Sink, WorldReader

__all__ = ["BadRequest", "RateLimit", "Request", "Response", "Route", "Vendor", "json_response"]


class BadRequest(Exception):
    """A handler's way to answer 400 with the vendor's own error body."""

    def __init__(self, message: str, *, code: str = "invalid_request") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Request:
    """An incoming call, with the vendor prefix already stripped from `path`."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    world: WorldReader
    base_url: str                  # e.g. "http://127.0.0.1:8900/hubspot", for next-page links
    params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return self.query.get(name, [])

    def int_arg(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None,
                ) -> int:
        raw = self.arg(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(f"Invalid integer: {raw}", code="parameter_invalid_integer") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise BadRequest(f"{name} must be between {minimum} and {maximum}",
                             code="parameter_out_of_range")
        return value

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise BadRequest("request body is not valid JSON", code="invalid_json") from None

    def form(self) -> dict[str, list[str]]:
        """Form-encoded body (Stripe, Slack); `a[b]=c` keys are left as written."""
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass
class Response:
    status: int = 200
    body: Any = None               # dict/list -> JSON; str/bytes -> sent as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None,
                  ) -> Response:
    return Response(status=status, body=body, headers=dict(headers or {}))


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    """One endpoint. `pattern` must match the whole path; named groups become `params`.

    `name` identifies the endpoint to fault injection and request counting (e.g.
    "companies.list"); `write` marks calls that change state (for drop-after-write faults).
    """

    method: str
    pattern: str
    handler: Handler
    name: str
    write: bool = False

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = re.fullmatch(self.pattern, path)
        return found.groupdict() if found else None


class Vendor(ABC):
    """Base class for a vendor module's server side. Subclasses set the class attributes."""

    name: str = ""                 # URL prefix and store vendor name, e.g. "hubspot"
    default_rate_limit: RateLimit = RateLimit(100, 1.0)

    def __init__(self, secrets: Mapping[str, str]) -> None:
        self.secrets = secrets

    @abstractmethod
    def routes(self) -> list[Route]:
        """Every endpoint this vendor serves."""

    @abstractmethod
    def authenticate(self, request: Request) -> Response | None:
        """None when the credentials are right, else the vendor's own 401 (or 200 ok:false)."""

    def rate_limit_key(self, request: Request) -> str:
        """The bucket a request counts against (per token by default; Slack: per channel)."""
        return request.header("Authorization") or ""

    def rate_limit_for(self, request: Request, configured: RateLimit) -> RateLimit:
        """The limit this request counts against; `configured` is the vendor's (maybe scaled).

        Vendors whose methods sit in different tiers (Slack) override this.
        """
        return configured

    @abstractmethod
    def rate_limited(self, retry_after: float, limit: RateLimit) -> Response:
        """The vendor's own 429 (or equivalent) answer."""

    def rate_limit_headers(self, limit: RateLimit, remaining: int) -> dict[str, str]:
        """Headers advertising the limit on every response (empty if the vendor sends none)."""
        return {}

    @abstractmethod
    def error(self, status: int, message: str, code: str = "error") -> Response:
        """The vendor's own error body for `status` (400, 404, 500, 503, ...)."""

    @abstractmethod
    def load_fixture(self, kind: str, body: dict[str, Any], sink: Sink) -> None:
        """Store one vendor-shaped object read from a fixture file `<vendor>/<kind>.json`.

        Indexes it as the routes expect (id, created and updated times, deleted flag) via
        `sink.upsert`, or as an event via `sink.append_event`; raises ValueError naming the
        missing field when the object cannot be indexed.
        """

    def records(self, body: Any) -> list[dict[str, Any]]:
        """The records of a list/read response (for drift faults); [] if it carries none."""
        return []

    def share_one_timestamp(self, request: Request, kind: str, count: int) -> int:
        """Fault: make `count` stored objects of `kind` share one update time; returns how many.

        Only vendors whose incremental APIs page by time override this (Zendesk, HubSpot).
        """
        raise BadRequest(f"{self.name} does not support the same-timestamp fault")
