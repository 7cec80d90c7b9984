"""HubSpot's wire format: the calls the connector makes, their paging and their errors.

All traffic goes through one `VendorSession` (timeouts, retries, the client-side limiter).
Searches and association batch reads are POSTs that only read, so they are sent as
idempotent: a dropped connection or a malformed page is then retried like a GET would be
instead of surfacing as an ambiguous write.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from csp.settings import VendorConfig
from integrations.http import VendorHTTPError, VendorSession, create_session
from integrations.hubspot import settings


def hubspot_session(config: VendorConfig) -> VendorSession:
    """A session for `config`: its rate limit and the private app token as a Bearer header."""
    session = create_session(settings.SOURCE, rate_limit=config.rate_limit)
    authorize(session, config)
    return session


def authorize(session: VendorSession, config: VendorConfig) -> None:
    """Put the private app token on `session` (the one place the secret is revealed)."""
    try:
        token = config.credentials["token"]
    except KeyError:
        raise ValueError("hubspot: no 'token' credential configured "
                         "(set CSP_HUBSPOT_TOKEN)") from None
    session.headers["Authorization"] = f"Bearer {token.reveal()}"


class HubSpotClient:
    """The HubSpot calls the source makes, each returning parsed JSON or raising a clean error."""

    def __init__(self, session: VendorSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")

    def search(self, object_type: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """One page of `POST /crm/v3/objects/{type}/search`."""
        path = settings.SEARCH_PATH.format(object_type=object_type)
        return self._json(self.session.request("POST", self.base_url + path, json=body,
                                               idempotent=True))

    def list_pages(self, path: str, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list endpoint (`paging.next.after` cursor), one list per page."""
        query = dict(params)
        while True:
            body = self._json(self.session.get(self.base_url + path, params=query))
            results = body.get("results") or []
            if results:
                yield list(results)
            after = next_after(body)
            if after is None:
                return
            query["after"] = after

    def read_associations(self, from_type: str, to_type: str, ids: Sequence[str],
                          ) -> list[dict[str, Any]]:
        """The associations of `ids` (of `from_type`) to `to_type`, batched per request.

        Objects without any association are listed in the 207 answer's `errors`; they have
        nothing to load, so only `results` are returned.
        """
        path = settings.ASSOCIATIONS_READ_PATH.format(from_type=from_type, to_type=to_type)
        results: list[dict[str, Any]] = []
        for start in range(0, len(ids), settings.ASSOCIATIONS_BATCH_SIZE):
            chunk = ids[start:start + settings.ASSOCIATIONS_BATCH_SIZE]
            body = self._json(self.session.request(
                "POST", self.base_url + path, json={"inputs": [{"id": i} for i in chunk]},
                idempotent=True))
            results.extend(body.get("results") or [])
        return results

    def _json(self, response: requests.Response) -> dict[str, Any]:
        """The JSON body of a successful answer; else `VendorHTTPError` with HubSpot's category.

        The category (INVALID_AUTHENTICATION, VALIDATION_ERROR, ...) says what went wrong
        without echoing the request; the message is left out, as it may quote input.
        """
        if response.status_code >= 400:
            raise _http_error(self.session, response)
        body = response.json()
        if not isinstance(body, dict):
            raise _http_error(self.session, response, failure="answer is not a JSON object")
        return body


def next_after(body: Mapping[str, Any]) -> str | None:
    """The `paging.next.after` cursor of a HubSpot answer, or None on the last page."""
    paging = body.get("paging")
    following = paging.get("next") if isinstance(paging, Mapping) else None
    after = following.get("after") if isinstance(following, Mapping) else None
    return str(after) if after not in (None, "") else None


def _http_error(session: VendorSession, response: requests.Response, *,
                failure: str | None = None) -> VendorHTTPError:
    request = response.request
    method = (request.method or "GET").upper() if request is not None else "?"
    path = urlsplit(request.url or "").path if request is not None else "?"
    if failure is None:
        try:
            body = response.json()
        except ValueError:
            body = None
        category = body.get("category") if isinstance(body, dict) else None
        failure = str(category) if category else (response.reason or None)
    return VendorHTTPError(session.vendor, method, path, attempts=1,
                           status=response.status_code, failure=failure, response=response)
