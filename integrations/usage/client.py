"""HTTP details of the product export API: bearer auth, paging, verified partition downloads.

- `product_session`: the shared `VendorSession` with `Authorization: Bearer <token>`.
- `partition_pages` / `survey_pages`: the two listings, page by page (`next_cursor`).
- `download_partition`: one partition file, checked against the sha256 the listing gave. A
  body cut short with a consistent Content-Length, or corrupted on the way, is a 200 that no
  HTTP-level retry catches, and would silently load half a day of events; the digest catches
  it, and the file is fetched again.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests

from csp.settings import VendorConfig
from integrations.http import (
    RetriesExhaustedError,
    VendorRequestError,
    VendorSession,
    create_session,
)
from integrations.usage.settings import VENDOR

# Failures of reading a streamed body, which happen after the session's retry loop returned.
BODY_READ_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError)


class MissingCredentialError(Exception):
    """The product token is not configured; names the source."""


def product_session(config: VendorConfig, **options: Any) -> VendorSession:
    """A `VendorSession` for the product API, authenticated and limited to the configured rate.

    `options` go to `create_session` (`retry`, `timeout`, or a shared `limiter`, which then
    replaces the config's rate limit).
    """
    if "limiter" not in options:
        options["rate_limit"] = config.rate_limit
    return create_session(VENDOR, headers=bearer_header(config), **options)


def bearer_header(config: VendorConfig) -> dict[str, str]:
    """`Authorization: Bearer <token>` (the one place the product token is revealed)."""
    if "token" not in config.credentials:
        raise MissingCredentialError(f"{VENDOR}: credential 'token' is not configured")
    return {"Authorization": f"Bearer {config.credentials['token'].reveal()}"}


def partition_pages(session: VendorSession, url: str, *, since: str, page_size: int,
                    ) -> Iterator[list[Any]]:
    """Pages of the usage partition listing from day `since` (inclusive), oldest first."""
    yield from _cursor_pages(session, url, key="partitions",
                             params={"since": since, "limit": page_size})


def survey_pages(session: VendorSession, url: str, *, updated_since: str, page_size: int,
                 ) -> Iterator[list[Any]]:
    """Pages of survey responses updated at or after `updated_since` (ISO time)."""
    yield from _cursor_pages(session, url, key="data",
                             params={"updated_since": updated_since, "limit": page_size})


def _cursor_pages(session: VendorSession, url: str, *, key: str, params: dict[str, Any],
                  ) -> Iterator[list[Any]]:
    cursor: str | None = None
    while True:
        query = {**params, "cursor": cursor} if cursor else params
        response = session.ensure_ok(session.get(url, params=query))
        body = response.json()
        records = body.get(key) if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise VendorRequestError(VENDOR, "GET", _path(url), attempts=1,
                                     status=response.status_code,
                                     failure=f"the body has no {key!r} list")
        yield records
        following = body.get("next_cursor")
        if not following:
            return
        if following == cursor:
            raise VendorRequestError(VENDOR, "GET", _path(url), attempts=1,
                                     status=response.status_code,
                                     failure="the listing's next_cursor did not advance")
        cursor = following


def partition_url(base_url: str, path: str) -> str:
    """The file's URL on the API's own host: the listing's `path` is from the host root.

    Deliberately not the listing's absolute `url`: that may point at another host (a CDN, a
    pre-signed bucket link), and this session would send the product token there.
    """
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}{path}"


def download_partition(session: VendorSession, url: str, sha256: str, *, attempts: int,
                       ) -> bytes:
    """The file at `url`, whose sha256 must be `sha256`; fetched again (with the session's
    backoff) when the body is cut short or differs, up to `attempts` tries in all."""
    rng = random.Random()
    failure = ""
    for attempt in range(1, attempts + 1):
        response = session.get(url, stream=True)   # stream: no JSON check on an NDJSON body
        try:
            session.ensure_ok(response)
            body = response.content
        except BODY_READ_ERRORS as exc:
            failure = f"{type(exc).__name__} while reading the body"
        else:
            if hashlib.sha256(body).hexdigest() == sha256:
                return body
            failure = f"body of {len(body)} bytes does not match the listed sha256"
        finally:
            response.close()
        if attempt < attempts:
            wait = session.retry.backoff(attempt, rng)
            session.stats.retried("sha256 mismatch" if "sha256" in failure else "body read",
                                  wait)
            time.sleep(wait)
    raise RetriesExhaustedError(VENDOR, "GET", _path(url), attempts=attempts, status=200,
                                failure=failure)


def _path(url: str) -> str:
    return urlsplit(url).path or "/"
