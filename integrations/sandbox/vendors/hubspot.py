"""HubSpot CRM v3 as the sandbox serves it: companies, contacts, deals, owners, associations,
search, and the task/company writes connectors make.

Wire format follows HubSpot's: `Authorization: Bearer <private app token>`; list pages of at
most 100 with an opaque `paging.next.after` cursor; search paged by offset up to 10,000
results; HubSpot's error body (`status`, `message`, `correlationId`, `category`); the
ten-second rolling rate limit advertised in `X-HubSpot-RateLimit-*` headers on every answer.
Renderers (`hubspot_render`) turn canonical records into these objects when the world is
written; this module only reads and writes the stored objects.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from integrations.sandbox.domain import ACCOUNT, CONTACT, CSM, DEAL
from integrations.sandbox.routing import (
    BadRequest,
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
    Selection,
    find_by_value,
    from_millis,
    get_row,
    load_key_fixture,
    parse_millis,
    require,
    select,
    share_one_update_time,
    to_millis,
)
from integrations.sandbox.vendors.hubspot_objects import (
    ALIASES,
    ASSOCIATIONS,
    COMPANIES,
    CONTACTS,
    DEALS,
    MODIFIED_PROPERTY,
    OBJECT_TYPES,
    OWNERS,
    SINGULAR,
    TASKS,
    VENDOR,
    HubSpotError,
    association_object_from_body,
    association_objects,
    associations_of,
    correlation_id,
    error_response,
    iso,
    object_type,
    project,
    split_names,
    v3_associations,
    v4_target,
)
from integrations.sandbox.vendors.hubspot_render import (
    render_company,
    render_contact,
    render_deal,
    render_owner,
)
from integrations.sandbox.vendors.hubspot_search import parse_search, run_search
from integrations.sandbox.vendors.hubspot_writes import HubSpotWrites

LIST_LIMIT = (10, 100)            # default, maximum
OWNERS_LIMIT = (100, 500)
ASSOCIATIONS_LIMIT = (500, 500)
BATCH_READ_LIMIT = 1000
AUTH_MESSAGE = ("Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview")
_CATEGORY_BY_STATUS = {400: "VALIDATION_ERROR", 401: "INVALID_AUTHENTICATION",
                       403: "MISSING_SCOPES", 404: "OBJECT_NOT_FOUND", 409: "CONFLICT",
                       429: "RATE_LIMITS"}

register_renderer(CSM, render_owner)
register_renderer(ACCOUNT, render_company)
register_renderer(CONTACT, render_contact)
register_renderer(DEAL, render_deal)


@register_vendor
class HubSpot(Vendor):
    """HubSpot's CRM APIs over the world's `hubspot` objects."""

    name = VENDOR
    default_rate_limit = RateLimit(100, 10.0)

    def __init__(self, secrets: Any) -> None:
        super().__init__(secrets)
        self.writes = HubSpotWrites()

    # -- the Vendor contract --------------------------------------------------------------

    def routes(self) -> list[Route]:
        routes: list[Route] = []
        for kind in OBJECT_TYPES:
            spelled = "(?:" + "|".join((kind, *ALIASES[kind])) + ")"
            base = rf"/crm/v3/objects/{spelled}"
            routes += [
                Route("GET", base + "/?", self._guard(self._list(kind)), f"{kind}.list"),
                Route("POST", base + "/search", self._guard(self._search(kind)),
                      f"{kind}.search"),
            ]
            if kind == TASKS:
                routes += [
                    Route("POST", base + "/?", self._guard(self._create_task), "tasks.create",
                          write=True),
                    Route("POST", base + "/batch/upsert", self._guard(self._upsert_tasks),
                          "tasks.batch_upsert", write=True),
                ]
            if kind == COMPANIES:
                routes += [
                    Route("PATCH", base + r"/(?P<id>[^/]+)", self._guard(self._update_company),
                          "companies.update", write=True),
                    Route("POST", base + "/batch/update", self._guard(self._update_companies),
                          "companies.batch_update", write=True),
                ]
            routes.append(Route("GET", base + r"/(?P<id>[^/]+)", self._guard(self._get(kind)),
                                f"{kind}.get"))
        unknown = self._guard(self._unknown_type)
        return routes + [
            Route("GET", r"/crm/v3/objects/(?P<type>[^/]+)(?:/.*)?", unknown, "objects.unknown"),
            Route("POST", r"/crm/v3/objects/(?P<type>[^/]+)(?:/.*)?", unknown,
                  "objects.unknown"),
            Route("GET", r"/crm/v3/owners/?", self._guard(self._owners), "owners.list"),
            Route("GET", r"/crm/v3/owners/(?P<id>[^/]+)", self._guard(self._owner),
                  "owners.get"),
            Route("GET", r"/crm/v4/objects/(?P<from_type>[^/]+)/(?P<id>[^/]+)/associations/"
                         r"(?P<to_type>[^/]+)", self._guard(self._associations),
                  "associations.list"),
            Route("POST", r"/crm/v4/associations/(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/batch/"
                          r"read", self._guard(self._associations_batch),
                  "associations.batch_read"),
        ]

    def authenticate(self, request: Request) -> Response | None:
        """A private app token as `Bearer`; anything else gets HubSpot's 401 body."""
        expected = f"Bearer {self.secrets.get('hubspot_token', '')}"
        given = request.header("Authorization") or ""
        if self.secrets.get("hubspot_token") and hmac.compare_digest(given.encode(),
                                                                     expected.encode()):
            return None
        return error_response(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")

    def rate_limited(self, retry_after: float, limit: RateLimit) -> Response:
        """HubSpot's 429 for the ten-second rolling window, with Retry-After."""
        body = {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT", "correlationId": correlation_id(),
                "policyName": "TEN_SECONDLY_ROLLING",
                "groupName": "publicapi:private-app-api-calls-ten-secondly"}
        headers = {**self.rate_limit_headers(limit, 0),
                   "Retry-After": str(max(1, math.ceil(retry_after)))}
        return json_response(body, 429, headers)

    def rate_limit_headers(self, limit: RateLimit, remaining: int) -> dict[str, str]:
        """The `X-HubSpot-RateLimit-*` headers HubSpot sends on every answer."""
        return {"X-HubSpot-RateLimit-Max": str(limit.limit),
                "X-HubSpot-RateLimit-Remaining": str(remaining),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(round(limit.window * 1000))}

    def error(self, status: int, message: str, code: str = "error") -> Response:
        """HubSpot's error body; `code` is used as the category when it is one."""
        category = code if code.isupper() else _CATEGORY_BY_STATUS.get(status, "INTERNAL_ERROR")
        return error_response(status, message, category)

    def records(self, body: Any) -> list[dict[str, Any]]:
        """The `results` of list/search/batch answers, or a single object read."""
        if isinstance(body, dict) and isinstance(body.get("results"), list):
            return [item for item in body["results"] if isinstance(item, dict)]
        if isinstance(body, dict) and "properties" in body and "id" in body:
            return [body]
        return []

    def load_fixture(self, kind: str, body: dict[str, Any], sink: Sink) -> None:
        """Index one exported HubSpot object, owner, association or key entry."""
        if kind == KEYS_KIND:
            load_key_fixture(VENDOR, body, sink)
        elif kind == ASSOCIATIONS:
            require(body, "fromObjectType", "fromObjectId", "toObjectType", "toObjectId",
                    "associationTypes", what="HubSpot association")
            sink.upsert(association_object_from_body(body))
        elif kind == OWNERS:
            require(body, "id", "createdAt", "updatedAt", what="HubSpot owner")
            sink.upsert(_indexed(OWNERS, body))
        else:
            _load_crm_object(object_type(kind), body, sink)

    def share_one_timestamp(self, request: Request, kind: str, count: int) -> int:
        """Make the newest `count` companies, contacts or deals share one modification time."""
        kind = {"account": COMPANIES, "contact": CONTACTS, "deal": DEALS}.get(kind, kind)
        if kind not in (COMPANIES, CONTACTS, DEALS):
            raise BadRequest(f"hubspot shares timestamps among companies, contacts or deals, "
                             f"not {kind!r}")
        paths = ("$.updatedAt", f"$.properties.{MODIFIED_PROPERTY[kind]}")
        return share_one_update_time(request.world, VENDOR, kind, count, paths,
                                     lambda millis: iso(millis) or "")

    # -- reads ----------------------------------------------------------------------------

    def _unknown_type(self, request: Request) -> Response:
        """Any other object type: HubSpot's 400, raised by `object_type`."""
        object_type(request.params["type"])
        raise HubSpotError(404, "resource not found", "OBJECT_NOT_FOUND")

    def _list(self, kind: str) -> Callable[[Request], Response]:
        """GET /crm/v3/objects/{type}: creation-ordered pages of <= 100 with an opaque cursor."""
        def handle(request: Request) -> Response:
            limit = request.int_arg("limit", LIST_LIMIT[0], minimum=1, maximum=LIST_LIMIT[1])
            archived = _flag(request, "archived")
            after = _decode_cursor(request.arg("after"))
            rows = list(select(request.world, Selection(VENDOR, kind, deleted=archived),
                               after=after, limit=limit + 1))
            properties = split_names(request.args("properties")) or None
            wanted = split_names(request.args("associations"))
            results = [self._present(request, kind, row.body, properties, wanted)
                       for row in rows[:limit]]
            body: dict[str, Any] = {"results": results}
            if len(rows) > limit:
                body["paging"] = _next_page(request, _encode_cursor(rows[limit - 1].key(
                    "created")))
            return json_response(body)
        return handle

    def _get(self, kind: str) -> Callable[[Request], Response]:
        """GET /crm/v3/objects/{type}/{id}: one object, by id or by `idProperty`."""
        def handle(request: Request) -> Response:
            archived = _flag(request, "archived")
            object_id = request.params["id"]
            id_property = request.arg("idProperty")
            if id_property and id_property != "hs_object_id":
                if not re.fullmatch(r"[a-z0-9_]+", id_property):
                    raise HubSpotError(400, f"{id_property!r} is not a property name")
                found = find_by_value(request.world, VENDOR, kind,
                                      f"$.properties.{id_property}", object_id, deleted=None)
                row = found[0] if found else None
            else:
                row = get_row(request.world, VENDOR, kind, object_id)
            if row is None or row.deleted != archived:
                raise HubSpotError(404, "resource not found", "OBJECT_NOT_FOUND")
            properties = split_names(request.args("properties")) or None
            wanted = split_names(request.args("associations"))
            return json_response(self._present(request, kind, row.body, properties, wanted))
        return handle

    def _search(self, kind: str) -> Callable[[Request], Response]:
        """POST /crm/v3/objects/{type}/search (see `hubspot_search`)."""
        def handle(request: Request) -> Response:
            return json_response(run_search(request.world, parse_search(kind, request.json())))
        return handle

    def _present(self, request: Request, kind: str, body: dict[str, Any],
                 properties: list[str] | None, wanted: list[str]) -> dict[str, Any]:
        """A stored object as a v3 read shows it: chosen properties, asked-for associations."""
        shown = project(body, kind, properties)
        associations = v3_associations(request.world, kind, body["id"], wanted)
        if associations:
            shown["associations"] = associations
        return shown

    def _owners(self, request: Request) -> Response:
        """GET /crm/v3/owners: owners by page, or the one with `email`."""
        limit = request.int_arg("limit", OWNERS_LIMIT[0], minimum=1, maximum=OWNERS_LIMIT[1])
        archived = _flag(request, "archived")
        email = request.arg("email")
        if email:
            rows = [row for row in find_by_value(request.world, VENDOR, OWNERS, "$.email",
                                                 email, deleted=archived)]
            return json_response({"results": [row.body for row in rows]})
        after = _decode_cursor(request.arg("after"))
        rows = list(select(request.world, Selection(VENDOR, OWNERS, deleted=archived),
                           after=after, limit=limit + 1))
        body: dict[str, Any] = {"results": [row.body for row in rows[:limit]]}
        if len(rows) > limit:
            body["paging"] = _next_page(request, _encode_cursor(rows[limit - 1].key("created")))
        return json_response(body)

    def _owner(self, request: Request) -> Response:
        """GET /crm/v3/owners/{id}: one owner, by owner id or `idProperty=userId`."""
        owner_id = request.params["id"]
        if request.arg("idProperty") == "userId":
            found = find_by_value(request.world, VENDOR, OWNERS, "$.userId",
                                  int(owner_id) if owner_id.isdigit() else owner_id)
            body = found[0].body if found else None
        else:
            body = request.world.get(VENDOR, OWNERS, owner_id)
        if body is None:
            raise HubSpotError(404, f"No owner with id {owner_id}", "OBJECT_NOT_FOUND")
        return json_response(body)

    def _associations(self, request: Request) -> Response:
        """GET /crm/v4/objects/{from}/{id}/associations/{to}: targets by page of <= 500."""
        from_type = object_type(request.params["from_type"])
        to_type = object_type(request.params["to_type"])
        limit = request.int_arg("limit", ASSOCIATIONS_LIMIT[0], minimum=1,
                                maximum=ASSOCIATIONS_LIMIT[1])
        after = _decode_cursor(request.arg("after"))
        found = associations_of(request.world, from_type, request.params["id"], to_type,
                                after_target=None if after is None else str(after[1]),
                                limit=limit + 1)
        body: dict[str, Any] = {"results": [v4_target(item) for item in found[:limit]]}
        if len(found) > limit:
            last = str(found[limit - 1]["toObjectId"])
            body["paging"] = _next_page(request, _encode_cursor((last, last)))
        return json_response(body)

    def _associations_batch(self, request: Request) -> Response:
        """POST /crm/v4/associations/{from}/{to}/batch/read: 207 lists ids without any."""
        from_type = object_type(request.params["from_type"])
        to_type = object_type(request.params["to_type"])
        payload = request.json()
        inputs = payload.get("inputs") if isinstance(payload, dict) else None
        if not isinstance(inputs, list) or not inputs:
            raise HubSpotError(400, "Invalid input JSON: expected {\"inputs\": [{\"id\": ...}]}")
        if len(inputs) > BATCH_READ_LIMIT:
            raise HubSpotError(400, f"Batch input has {len(inputs)} inputs; the limit is "
                                    f"{BATCH_READ_LIMIT}")
        started = iso(self.writes.now_ms())
        results, errors = [], []
        for item in inputs:
            from_id = str((item or {}).get("id") or "")
            targets = associations_of(request.world, from_type, from_id, to_type)
            if targets:
                results.append({"from": {"id": from_id},
                                "to": [v4_target(target) for target in targets]})
            else:
                errors.append(_no_associations(from_type, to_type, from_id))
        body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                                "completedAt": iso(self.writes.now_ms())}
        if errors:
            body.update(numErrors=len(errors), errors=errors)
        return json_response(body, 207 if errors else 200)

    # -- writes ---------------------------------------------------------------------------

    def _create_task(self, request: Request) -> Response:
        """POST /crm/v3/objects/tasks: 201 with the new task."""
        return json_response(self.writes.create_task(request.world, request.json()), 201)

    def _upsert_tasks(self, request: Request) -> Response:
        """POST /crm/v3/objects/tasks/batch/upsert: create or update by `csp_task_key`."""
        return json_response(self.writes.upsert_tasks(request.world, request.json()))

    def _update_company(self, request: Request) -> Response:
        """PATCH /crm/v3/objects/companies/{id}: the updated company."""
        return json_response(self.writes.update_company(request.world, request.params["id"],
                                                        request.json()))

    def _update_companies(self, request: Request) -> Response:
        """POST /crm/v3/objects/companies/batch/update: 200, or 207 naming unknown ids."""
        status, body = self.writes.update_companies(request.world, request.json())
        return json_response(body, status)

    @staticmethod
    def _guard(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """A handler whose HubSpotError becomes HubSpot's error response."""
        def guarded(request: Request) -> Response:
            try:
                return handler(request)
            except HubSpotError as exc:
                return exc.response()
        return guarded


def _load_crm_object(kind: str, body: dict[str, Any], sink: Sink) -> None:
    """Index one exported CRM object; v3 `associations` in it become association rows."""
    require(body, "id", "properties", "createdAt", "updatedAt", what=f"HubSpot {kind} object")
    stored = {name: value for name, value in body.items() if name != "associations"}
    sink.upsert(_indexed(kind, stored))
    archived = bool(body.get("archived"))
    company = body["properties"].get("associatedcompanyid")
    if kind == CONTACTS and company:
        for row in association_objects(CONTACTS, str(body["id"]), COMPANIES, str(company),
                                       archived=archived):
            sink.upsert(row)
    for to_name, listing in (body.get("associations") or {}).items():
        to_type = object_type(to_name)
        for entry in {str(item["id"]) for item in listing.get("results", [])}:
            for row in association_objects(kind, str(body["id"]), to_type, entry,
                                           archived=archived):
                sink.upsert(row)


def _indexed(kind: str, body: dict[str, Any]) -> VendorObject:
    """A stored row for an exported object, its times taken from createdAt/updatedAt."""
    try:
        created, updated = parse_millis(body["createdAt"]), parse_millis(body["updatedAt"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"HubSpot {kind} {body.get('id')}: {exc}") from None
    return VendorObject(VENDOR, kind, str(body["id"]), from_millis(created),
                        from_millis(updated), body, deleted=bool(body.get("archived")))


def _flag(request: Request, name: str) -> bool:
    """A true/false query parameter (default false); anything else is HubSpot's 400."""
    raw = (request.arg(name) or "false").lower()
    if raw not in ("true", "false"):
        raise HubSpotError(400, f"{name} must be true or false, got {raw!r}")
    return raw == "true"


def _encode_cursor(position: tuple[Any, str]) -> str:
    """An opaque `after` token for a keyset position (HubSpot's are opaque base64 too)."""
    value, object_id = position
    raw = json.dumps([to_millis(value) if isinstance(value, float) else value, object_id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(token: str | None) -> tuple[Any, str] | None:
    """The keyset position in an `after` token; a 400 if it is not one of ours."""
    if not token:
        return None
    try:
        value, object_id = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise HubSpotError(400, f"Invalid value for after: {token!r}") from None
    return (from_millis(value) if isinstance(value, int) else value, str(object_id))


def _next_page(request: Request, after: str) -> dict[str, Any]:
    """`paging.next` with the cursor and a link repeating the request's parameters."""
    query = {name: values[-1] for name, values in request.query.items()}
    query["after"] = after
    return {"next": {"after": after, "link": f"{request.base_url}{request.path}?"
                                             f"{urlencode(query)}"}}


def _no_associations(from_type: str, to_type: str, from_id: str) -> dict[str, Any]:
    """The batch-read error entry for an object with no associations of that type."""
    return {"status": "error", "category": "OBJECT_NOT_FOUND",
            "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
            "message": f"No {SINGULAR[to_type]} is associated with {SINGULAR[from_type]} "
                       f"{from_id}.",
            "context": {"fromObjectId": [from_id]}, "errors": [], "links": {}}

