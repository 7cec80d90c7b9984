"""Salesforce's wire format: the OAuth token, SOQL `queryAll` batches, and their errors.

Authentication is the OAuth 2.0 client-credentials flow of a connected app: the login host
(`config.base_url`) returns an access token and the org's `instance_url`, where every data
call goes. A token can expire mid-run (sessions time out, admins revoke them); a 401 with
`INVALID_SESSION_ID` then triggers one new token and one resend of that request, and a
second 401 is an error. The token is fetched on the first call, not when the source is built,
so building a source never touches the network.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from csp.settings import VendorConfig
from integrations.http import VendorHTTPError, VendorSession, create_session
from integrations.salesforce import settings


def salesforce_session(config: VendorConfig) -> VendorSession:
    """A session for `config` at its rate limit; the client adds the token once it has one."""
    return create_session(settings.SOURCE, rate_limit=config.rate_limit)


class SalesforceClient:
    """Token handling and SOQL paging for one org; safe to share between threads."""

    def __init__(self, session: VendorSession, config: VendorConfig) -> None:
        self.session = session
        self.config = config
        self.login_url = config.base_url.rstrip("/")
        self.instance_url: str | None = None
        self.authentications = 0
        self._lock = threading.Lock()

    # -- auth -------------------------------------------------------------------------------

    def authenticate(self) -> None:
        """Get an access token and the instance URL (client-credentials grant)."""
        form = {"grant_type": "client_credentials",
                "client_id": self._credential("client_id"),
                "client_secret": self._credential("client_secret")}
        # A token request changes nothing at the vendor: resending it is safe.
        response = self.session.request("POST", self.login_url + settings.TOKEN_PATH,
                                        data=form, idempotent=True)
        body = _json_or_none(response)
        if response.status_code >= 400 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise _http_error(self.session, response,
                              failure=f"OAuth {error}" if error else response.reason or None)
        token, instance = body.get("access_token"), body.get("instance_url")
        if not token or not instance:
            raise _http_error(self.session, response,
                              failure="token answer lacks access_token or instance_url")
        with self._lock:
            self.session.headers["Authorization"] = f"Bearer {token}"
            self.instance_url = str(instance).rstrip("/")
            self.authentications += 1

    def _credential(self, name: str) -> str:
        secret = self.config.credentials.get(name)
        if secret is None:
            raise ValueError(f"salesforce: no '{name}' credential configured "
                             f"(set CSP_SALESFORCE_{name.upper()})")
        return secret.reveal()

    # -- queries ----------------------------------------------------------------------------

    def query_all(self, soql: str, *, batch_size: int = settings.BATCH_SIZE,
                  ) -> Iterator[list[dict[str, Any]]]:
        """Every batch of a SOQL query through `queryAll` (deleted records included).

        The first batch comes from `queryAll?q=`, the next ones from each `nextRecordsUrl`
        (a server-side cursor: a retried batch request returns the same batch).
        """
        if not settings.MIN_BATCH_SIZE <= batch_size <= settings.MAX_BATCH_SIZE:
            raise ValueError(f"salesforce: batch_size must be within "
                             f"{settings.MIN_BATCH_SIZE}..{settings.MAX_BATCH_SIZE}")
        headers = {settings.QUERY_OPTIONS_HEADER: f"batchSize={batch_size}"}
        body = self.get(settings.QUERY_ALL_PATH, params={"q": soql}, headers=headers)
        while True:
            records = body.get("records")
            yield list(records) if isinstance(records, list) else []
            following = body.get("nextRecordsUrl")
            if body.get("done", True) or not following:
                return
            body = self.get(str(following), headers=headers)

    def get(self, path: str, *, params: Mapping[str, str] | None = None,
            headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        """GET `path` on the instance; re-authenticate once if the session is invalid."""
        if self.instance_url is None:
            self.authenticate()
        response = self._send(path, params, headers)
        if response.status_code == 401 and _error_code(response) == settings.INVALID_SESSION:
            response.close()
            self.authenticate()
            response = self._send(path, params, headers)
        body = _json_or_none(response)
        if response.status_code >= 400 or not isinstance(body, dict):
            raise _http_error(self.session, response, failure=_error_code(response))
        return body

    def _send(self, path: str, params: Mapping[str, str] | None,
              headers: Mapping[str, str] | None) -> requests.Response:
        assert self.instance_url is not None
        return self.session.get(self.instance_url + path, params=params, headers=headers)


def soql_changed_since(spec: settings.SObjectSpec, since: str) -> str:
    """The SOQL reading `spec` changed at or after `since`, oldest first.

    `>=` rather than `>`: a record saved in the same millisecond as the last one loaded, but
    committed after the previous run read, would be skipped by `>`. Records at exactly the
    cursor that were already loaded are dropped again by dlt's incremental.
    """
    return (f"SELECT {spec.select_list} FROM {spec.sobject} "
            f"WHERE {settings.CURSOR_FIELD} >= {soql_datetime(since)} "
            f"ORDER BY {settings.CURSOR_FIELD} ASC")


def soql_datetime(text: str) -> str:
    """A Salesforce datetime (`...+0000`, `...Z`, `...+01:00`) as a SOQL UTC literal."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"salesforce: datetime {text!r} has no time zone")
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_code(response: requests.Response) -> str | None:
    """The `errorCode` of Salesforce's error list (safe to show: it quotes nothing)."""
    body = _json_or_none(response)
    first = body[0] if isinstance(body, list) and body else None
    code = first.get("errorCode") if isinstance(first, dict) else None
    return str(code) if code else (response.reason or None)


def _http_error(session: VendorSession, response: requests.Response, *,
                failure: str | None) -> VendorHTTPError:
    request = response.request
    method = (request.method or "GET").upper() if request is not None else "?"
    path = urlsplit(request.url or "").path if request is not None else "?"
    return VendorHTTPError(session.vendor, method, path, attempts=1,
                           status=response.status_code, failure=failure, response=response)
