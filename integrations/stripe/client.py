"""Stripe over HTTP: auth and version headers, list paging, invoice lines, event retention.

Everything that knows Stripe's wire format lives here, on top of the shared `VendorSession`
(timeouts, retries with jitter, `Retry-After`, the client-side limiter, redacted errors):

- every request carries the API key and `Stripe-Version`, set per request rather than on the
  session, so a session shared with other code (or built by a test) can be passed in as is;
- lists are read newest first, a page of `limit` objects at a time, each next page asked for
  with `starting_after=<id of the last object>` until `has_more` is false;
- an invoice embeds at most 10 lines; the rest are read from `/v1/invoices/{id}/lines`,
  starting after the last embedded one, so a long invoice costs one extra page, not a
  re-read of what is already there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import requests

from csp.settings import Secret
from integrations.contracts import SchemaDriftError
from integrations.http import VendorHTTPError, VendorRequestError, VendorSession
from integrations.stripe.settings import (
    API_VERSION,
    EVENTS_PATH,
    INVOICE_LINES_PATH,
    LINES_PAGE_SIZE,
    PAGE_SIZE,
    SOURCE,
)


class StripeAuthError(VendorHTTPError):
    """Stripe refused the API key (401) or its permissions (403)."""

    def describe(self) -> str:
        return (f"{super().describe()}: the API key was refused; check the Stripe key "
                f"configured for this run (CSP_STRIPE_API_KEY)")


class StripeResponseError(VendorRequestError):
    """A successful status with a body that is not what Stripe sends (no list envelope)."""


class StripeClient:
    """Reads Stripe's list and retrieve routes through one `VendorSession`."""

    def __init__(self, session: VendorSession, base_url: str, api_key: Secret, *,
                 page_size: int = PAGE_SIZE, lines_page_size: int = LINES_PAGE_SIZE) -> None:
        if not 1 <= page_size <= PAGE_SIZE or not 1 <= lines_page_size <= PAGE_SIZE:
            raise ValueError(f"{SOURCE}: page sizes must be between 1 and {PAGE_SIZE}")
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.lines_page_size = lines_page_size
        # The only place the key is revealed; the session never logs headers.
        self._headers = {"Authorization": f"Bearer {api_key.reveal()}",
                         "Stripe-Version": API_VERSION}

    def get(self, path: str, params: Mapping[str, str | int]) -> Any:
        """GET `path` and return the parsed body; 401/403 raise `StripeAuthError`."""
        response = self.session.get(f"{self.base_url}{path}", params=dict(params),
                                    headers=self._headers)
        self._ensure_ok(response)
        return response.json()

    def list_pages(self, path: str, params: Mapping[str, str | int], *, table: str,
                   page_size: int | None = None, starting_after: str | None = None,
                   ) -> Iterator[list[Any]]:
        """Every page of a list, newest first, as Stripe pages it (`starting_after`)."""
        after = starting_after
        while True:
            query: dict[str, str | int] = {**params, "limit": page_size or self.page_size}
            if after is not None:
                query["starting_after"] = after
            body = self.get(path, query)
            data, has_more = self._envelope(path, body)
            if data:
                yield data
            if not has_more:
                return
            after = self._last_id(data, table)

    def complete_invoice_lines(self, invoice: dict[str, Any]) -> None:
        """Replace an invoice's embedded first lines by all of its lines (in place)."""
        lines = invoice.get("lines")
        if not (isinstance(lines, dict) and lines.get("has_more") is True
                and isinstance(lines.get("data"), list) and lines["data"]
                and isinstance(invoice.get("id"), str)):
            return
        data = list(lines["data"])
        path = INVOICE_LINES_PATH.format(invoice_id=quote(invoice["id"], safe=""))
        for page in self.list_pages(path, {}, table="invoices__lines",
                                    page_size=self.lines_page_size,
                                    starting_after=self._last_id(data, "invoices__lines")):
            data.extend(page)
        invoice["lines"] = {**lines, "data": data, "has_more": False}

    def event_retained(self, event_id: str) -> bool:
        """Whether Stripe still serves this event (it forgets events after 30 days)."""
        response = self.session.get(f"{self.base_url}{EVENTS_PATH}/{quote(event_id, safe='')}",
                                    headers=self._headers)
        if response.status_code == 404:
            return False
        self._ensure_ok(response)
        return True

    def _ensure_ok(self, response: requests.Response) -> None:
        """Raise what a failed response means, naming an auth refusal as such."""
        try:
            self.session.ensure_ok(response)
        except VendorHTTPError as exc:
            if exc.status in (401, 403):
                raise StripeAuthError(exc.vendor, exc.method, exc.path, attempts=exc.attempts,
                                      status=exc.status, failure=exc.failure) from None
            raise

    @staticmethod
    def _envelope(path: str, body: Any) -> tuple[list[Any], bool]:
        if (not isinstance(body, dict) or not isinstance(body.get("data"), list)
                or not isinstance(body.get("has_more"), bool)):
            raise StripeResponseError(SOURCE, "GET", path, attempts=1, status=200,
                                      failure="the body is not a Stripe list (no 'data' array "
                                              "and 'has_more' flag)")
        return body["data"], body["has_more"]

    @staticmethod
    def _last_id(data: list[Any], table: str) -> str:
        """The id the next page starts after; without it Stripe cannot page at all."""
        last = data[-1]
        object_id = last.get("id") if isinstance(last, dict) else None
        if not isinstance(object_id, str):
            raise SchemaDriftError(SOURCE, table, "id", "missing from the last record of a "
                                   "page, so the next page cannot be asked for")
        return object_id
