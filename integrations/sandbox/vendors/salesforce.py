"""Salesforce's REST API (v59.0) as the sandbox serves it: OAuth token, SOQL query/queryAll
with query locators, sObject reads, Task upserts by external id and Account updates.

Wire format follows Salesforce's: a client-credentials (or password) token from
`/services/oauth2/token` whose `instance_url` is the sandbox's salesforce base URL; then
`Authorization: Bearer <token>`; errors as a JSON list of `{"message", "errorCode"}`; the
24-hour API request allowance reported in `Sforce-Limit-Info: api-usage=N/15000` on every
answer and enforced with 403 REQUEST_LIMIT_EXCEEDED. Renderers (`salesforce_render`) build
the records when the world is written.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from integrations.sandbox.domain import ACCOUNT, CONTACT, CSM, DEAL
from integrations.sandbox.routing import (
    RateLimit,
    Request,
    Response,
    Route,
    Vendor,
    json_response,
)
from integrations.sandbox.store import Sink, VendorObject, register_renderer
from integrations.sandbox.vendors import register_vendor
from integrations.sandbox.vendors.crm_store import (
    KEYS_KIND,
    from_millis,
    get_row,
    load_key_fixture,
    parse_millis,
    require,
    to_millis,
)
from integrations.sandbox.vendors.salesforce_query import (
    QueryCursors,
    QueryError,
    batch_size_from,
    plan_query,
    present,
)
from integrations.sandbox.vendors.salesforce_render import (
    render_account,
    render_contact,
    render_opportunity,
    render_user,
)
from integrations.sandbox.vendors.salesforce_schema import (
    DATA_PATH,
    INTEGRATION_USER_ID,
    VENDOR,
    SObject,
    sobject,
)
from integrations.sandbox.vendors.salesforce_writes import SalesforceError, SalesforceWrites

TOKEN_PATH = "/services/oauth2/token"
ORG_ID = "00D5e000000SandAAA"
SESSION_INVALID = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
_CODE_BY_STATUS = {400: "INVALID_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
                   500: "UNKNOWN_EXCEPTION", 503: "SERVER_UNAVAILABLE"}
_SEGMENT = r"[A-Za-z0-9_]+"

register_renderer(CSM, render_user)
register_renderer(ACCOUNT, render_account)
register_renderer(CONTACT, render_contact)
register_renderer(DEAL, render_opportunity)


@register_vendor
class Salesforce(Vendor):
    """Salesforce's REST API over the world's `salesforce` records."""

    name = VENDOR
    default_rate_limit = RateLimit(15000, 86400.0)

    def __init__(self, secrets: Any) -> None:
        super().__init__(secrets)
        self.clock: Callable[[], float] = time.time
        self.cursors = QueryCursors()
        self.writes = SalesforceWrites(self.clock)

    # -- the Vendor contract --------------------------------------------------------------

    def routes(self) -> list[Route]:
        data, segment = DATA_PATH, _SEGMENT
        sobjects = rf"{data}/sobjects/(?P<sobject>{segment})"
        composite = rf"{data}/composite/sobjects"
        guard = self._guard
        return [
            Route("POST", TOKEN_PATH, guard(self._token), "oauth.token"),
            Route("GET", rf"{data}/query/?", guard(self._query(include_deleted=False)),
                  "query"),
            Route("GET", rf"{data}/queryAll/?", guard(self._query(include_deleted=True)),
                  "query_all"),
            Route("GET", rf"{data}/(?:query|queryAll)/(?P<locator>[^/]+)",
                  guard(self._query_more), "query.more"),
            Route("GET", rf"{sobjects}/(?P<id>{segment})", guard(self._get), "sobjects.get"),
            Route("PATCH", rf"{sobjects}/(?P<field>{segment})/(?P<value>[^/]+)",
                  guard(self._upsert), "sobjects.upsert", write=True),
            Route("PATCH", rf"{sobjects}/(?P<id>{segment})", guard(self._update),
                  "sobjects.update", write=True),
            Route("POST", rf"{composite}/?", guard(self._create_many), "composite.create",
                  write=True),
            Route("PATCH", rf"{composite}/?", guard(self._update_many), "composite.update",
                  write=True),
            Route("PATCH", rf"{composite}/(?P<sobject>{segment})/(?P<field>{segment})",
                  guard(self._upsert_many), "composite.upsert", write=True),
        ]

    def authenticate(self, request: Request) -> Response | None:
        """The access token as `Bearer` (not needed for the token endpoint); else a 401."""
        if request.path == TOKEN_PATH:
            return None
        token = self.secrets.get("salesforce_access_token", "")
        given = request.header("Authorization") or ""
        if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return None
        return json_response(SESSION_INVALID, 401)

    def rate_limited(self, retry_after: float, limit: RateLimit) -> Response:
        """Salesforce's answer once the 24-hour allowance is used: 403 REQUEST_LIMIT_EXCEEDED."""
        body = [{"message": "TotalRequests Limit exceeded.",
                 "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        return json_response(body, 403, self.rate_limit_headers(limit, 0))

    def rate_limit_headers(self, limit: RateLimit, remaining: int) -> dict[str, str]:
        """`Sforce-Limit-Info: api-usage=used/allowed`, as on every Salesforce answer."""
        return {"Sforce-Limit-Info": f"api-usage={limit.limit - remaining}/{limit.limit}"}

    def error(self, status: int, message: str, code: str = "error") -> Response:
        """Salesforce's error list; `code` is used as the errorCode when it is one."""
        error_code = code if code.isupper() else (
            "JSON_PARSER_ERROR" if code == "invalid_json"
            else _CODE_BY_STATUS.get(status, "UNKNOWN_EXCEPTION"))
        return json_response([{"message": message, "errorCode": error_code}], status)

    def records(self, body: Any) -> list[dict[str, Any]]:
        """The `records` of a query answer, or a single record read."""
        if isinstance(body, dict) and isinstance(body.get("records"), list):
            return [item for item in body["records"] if isinstance(item, dict)]
        if isinstance(body, dict) and "attributes" in body:
            return [body]
        return []

    def load_fixture(self, kind: str, body: dict[str, Any], sink: Sink) -> None:
        """Index one exported record (any `attributes` dropped) or key entry."""
        if kind == KEYS_KIND:
            load_key_fixture(VENDOR, body, sink)
            return
        target = sobject(kind)
        if target is None:
            raise ValueError(f"no Salesforce sObject {kind!r} in the sandbox's org")
        require(body, "Id", "CreatedDate", "SystemModstamp", what=f"Salesforce {target.name}")
        record = {name: value for name, value in body.items() if name != "attributes"}
        try:
            created = parse_millis(record["CreatedDate"])
            updated = parse_millis(record["SystemModstamp"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Salesforce {target.name} {record['Id']}: {exc}") from None
        sink.upsert(VendorObject(VENDOR, target.name, str(record["Id"]), from_millis(created),
                                 from_millis(updated), record,
                                 deleted=bool(record.get("IsDeleted"))))

    # -- OAuth ----------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        """POST /services/oauth2/token: client-credentials or password grant."""
        form = {**request.query, **request.form()}
        value = {name: values[-1] for name, values in form.items() if values}
        grant = value.get("grant_type")
        if grant not in ("client_credentials", "password"):
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        if not self._secret_matches("salesforce_client_id", value.get("client_id")):
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if not self._secret_matches("salesforce_client_secret", value.get("client_secret")):
            return _oauth_error("invalid_client", "invalid client credentials")
        if grant == "password" and not (value.get("username") and value.get("password")):
            return _oauth_error("invalid_grant", "authentication failure")
        issued_at = str(to_millis(self.clock()))
        identity = f"https://login.salesforce.com/id/{ORG_ID}/{INTEGRATION_USER_ID}"
        digest = hmac.new(self.secrets["salesforce_client_secret"].encode(),
                          (identity + issued_at).encode(), hashlib.sha256).digest()
        return json_response({
            "access_token": self.secrets.get("salesforce_access_token", ""),
            "instance_url": request.base_url, "id": identity, "token_type": "Bearer",
            "issued_at": issued_at, "signature": base64.b64encode(digest).decode(),
        })

    def _secret_matches(self, name: str, given: str | None) -> bool:
        """Constant-time comparison with a configured secret (never echoed)."""
        expected = self.secrets.get(name, "")
        return bool(expected) and hmac.compare_digest((given or "").encode(), expected.encode())

    # -- reads ----------------------------------------------------------------------------

    def _query(self, *, include_deleted: bool) -> Callable[[Request], Response]:
        """GET /query or /queryAll?q=SOQL: the first batch (see `salesforce_query`)."""
        path = "queryAll" if include_deleted else "query"

        def handle(request: Request) -> Response:
            text = request.arg("q")
            if not text:
                raise QueryError("MALFORMED_QUERY", "A query string has to be specified")
            plan = plan_query(text, include_deleted=include_deleted)
            batch = batch_size_from(request.header("Sforce-Query-Options"))
            return json_response(self.cursors.start(request.world, plan, path, batch))
        return handle

    def _query_more(self, request: Request) -> Response:
        """GET /query/{locator}-{offset}: a later batch."""
        header = request.header("Sforce-Query-Options")
        batch = batch_size_from(header) if header else None
        return json_response(self.cursors.resume(request.world, request.params["locator"],
                                                 batch))

    def _get(self, request: Request) -> Response:
        """GET /sobjects/{type}/{id}[?fields=]: one record; 404 NOT_FOUND or ENTITY_IS_DELETED."""
        target = sobject(request.params["sobject"])
        if target is None:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        row = get_row(request.world, VENDOR, target.name, request.params["id"])
        if row is None:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        if row.deleted:
            raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
        fields = None
        if request.arg("fields"):
            fields = tuple(_field_or_error(target, name.strip())
                           for name in (request.arg("fields") or "").split(",") if name.strip())
        return json_response(present(target, row.body, fields))

    # -- writes ---------------------------------------------------------------------------

    def _upsert(self, request: Request) -> Response:
        """PATCH /sobjects/{type}/{externalIdField}/{value}: 201 created or 200 updated."""
        saved = self.writes.upsert(request.world, request.params["sobject"],
                                   request.params["field"], unquote(request.params["value"]),
                                   request.json())
        body = {"id": saved.id, "success": True, "errors": [], "created": saved.created}
        return json_response(body, 201 if saved.created else 200)

    def _update(self, request: Request) -> Response:
        """PATCH /sobjects/{type}/{id}: 204 with no body."""
        self.writes.update(request.world, request.params["sobject"], request.params["id"],
                           request.json())
        return Response(204, None)

    def _create_many(self, request: Request) -> Response:
        """POST /composite/sobjects: create up to 200 records."""
        return json_response(self.writes.create_many(request.world, request.json()))

    def _update_many(self, request: Request) -> Response:
        """PATCH /composite/sobjects: update up to 200 records by Id."""
        return json_response(self.writes.update_many(request.world, request.json()))

    def _upsert_many(self, request: Request) -> Response:
        """PATCH /composite/sobjects/{type}/{externalIdField}: upsert up to 200."""
        return json_response(self.writes.upsert_many(request.world, request.params["sobject"],
                                                     request.params["field"], request.json()))

    @staticmethod
    def _guard(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """A handler whose QueryError/SalesforceError becomes Salesforce's error list."""
        def guarded(request: Request) -> Response:
            try:
                return handler(request)
            except QueryError as exc:
                return json_response([{"message": exc.message, "errorCode": exc.code}], 400)
            except SalesforceError as exc:
                return json_response(exc.errors, exc.status)
        return guarded


def _field_or_error(target: SObject, name: str) -> str:
    """The canonical name of a `fields=` entry; 400 INVALID_FIELD if unknown."""
    canonical = target.field(name)
    if canonical is None:
        raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of "
                                                    f"type {target.name}", [name])
    return str(canonical)


def _oauth_error(error: str, description: str) -> Response:
    """The OAuth endpoint's own error shape (not the REST error list)."""
    return json_response({"error": error, "error_description": description}, 400)

