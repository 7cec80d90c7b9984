"""Zendesk Support API v2 as the sandbox serves it (vendor prefix `/zendesk`).

Routes (paths after the prefix; a trailing `.json` is optional, as on Zendesk):
- GET `/api/v2/incremental/tickets/cursor.json` and `/api/v2/incremental/users/cursor.json`:
  cursor-based incremental export. First call `?start_time=<unix>`, then `?cursor=<c>`;
  pages of `per_page` (default and max 1000), ordered by (update time, id). The cursor is
  Zendesk's own form, base64 of `<updated>||<id>|`: it encodes the exact position, so any
  number of records sharing one update time is exported exactly once. `end_of_stream` marks
  the last page, whose `after_cursor` a later run resumes from. `include=metric_sets`
  side-loads ticket metrics; `exclude_deleted=true` drops deleted records.
- GET `/api/v2/incremental/organizations.json?start_time=`: time-based export (`count`,
  `end_time`, `next_page`, `end_of_stream`). A full page is extended to the end of the
  second of its last record and `end_time` moves past it, so same-second records cannot
  make it loop; the last page's `end_time` is inclusive (a re-run may repeat records of that
  second, as Zendesk documents for time-based exports).
- GET `/api/v2/organizations.json`, `/api/v2/ticket_metrics.json`,
  `/api/v2/satisfaction_ratings.json`: cursor pagination with `page[size]` (max 100),
  `page[after]` / `page[before]`, answering `meta.has_more`, `meta.after_cursor`,
  `meta.before_cursor`, `links.next`, `links.prev`; without `page[...]` parameters they use
  offset pagination (`page`, `per_page`, `next_page`, `previous_page`, `count`), limited to
  100 pages like Zendesk. Ratings take `start_time`/`end_time` (on the rating's update time,
  inclusive/exclusive) and `score` filters.
- GET `/api/v2/tickets/{id}.json`.
Auth: HTTP basic `{email}/token:{api_token}` or `Authorization: Bearer {api_token}`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode

from integrations.sandbox import domain
from integrations.sandbox.routing import (
    BadRequest,
    RateLimit,
    Request,
    Response,
    Route,
    Vendor,
    json_response,
)
from integrations.sandbox.store import Renderer, Sink, VendorObject, register_renderer
from integrations.sandbox.vendors import register_vendor
from integrations.sandbox.vendors import zendesk_render as render
from integrations.sandbox.vendors.zendesk_wire import (
    bearer_token,
    decode_token,
    encode_token,
    iso_utc,
    parse_iso,
    retry_after_header,
    secret_equals,
    world_now,
)

VENDOR = render.VENDOR
EXPORT_PAGE_MAX = 1000
LIST_PAGE_MAX = 100
OFFSET_PAGES_MAX = 100
TOO_RECENT_SECONDS = 60
SAME_SECOND_MAX = 1_000_000        # bound of the same-second extension of a time-based page
LIST_KEYS = ("tickets", "users", "organizations", "ticket_metrics", "satisfaction_ratings")
ERROR_NAMES = {400: "InvalidValue", 403: "Forbidden", 404: "RecordNotFound",
               422: "InvalidValue", 500: "InternalError", 502: "BadGateway",
               503: "ServiceUnavailable", 504: "GatewayTimeout"}
FIXTURE_KINDS = (render.TICKETS, render.USERS, render.ORGANIZATIONS, render.TICKET_METRICS,
                 render.SATISFACTION_RATINGS)
SHARED_TIMESTAMP_KINDS = {"tickets": render.TICKETS, "ticket": render.TICKETS,
                          "users": render.USERS, "organizations": render.ORGANIZATIONS}
RATING_SCORES: dict[str, tuple[tuple[str, ...], bool | None]] = {
    # filter -> (scores, has comment: True / False / None for either)
    "offered": (("offered",), None),
    "unoffered": (("unoffered",), None),
    "received": (("good", "bad"), None),
    "received_with_comment": (("good", "bad"), True),
    "received_without_comment": (("good", "bad"), False),
    "good": (("good",), None),
    "good_with_comment": (("good",), True),
    "good_without_comment": (("good",), False),
    "bad": (("bad",), None),
    "bad_with_comment": (("bad",), True),
    "bad_without_comment": (("bad",), False),
}

Position = tuple[float, str]

for _kind, _renderer in ((domain.ACCOUNT, render.render_account),
                         (domain.CONTACT, render.render_contact),
                         (domain.CSM, render.render_csm),
                         (domain.TICKET, render.render_ticket)):
    register_renderer(_kind, cast(Renderer, _renderer))


# -- serving helpers ------------------------------------------------------------------------

def _served(body: dict[str, Any], base_url: str) -> dict[str, Any]:
    """A stored object as served: its path-only `url` made absolute on the sandbox's host."""
    url = body.get("url")
    if isinstance(url, str) and url.startswith("/"):
        body["url"] = base_url + url
    return body


def _link(request: Request, path: str, params: dict[str, str | int]) -> str:
    return f"{request.base_url}{path}?{urlencode(params)}"


def _unix_arg(request: Request, name: str) -> int | None:
    raw = request.arg(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a Unix epoch time in seconds",
                         code="InvalidValue") from None


class _Unprocessable(Exception):
    """A 422 answer (Zendesk's reply to a too-recent start_time)."""


def _check_start_time(request: Request, start_time: int) -> None:
    """Zendesk refuses a start_time in the future or within the last minute (HTTP 422)."""
    if start_time > world_now(request.world) - TOO_RECENT_SECONDS:
        raise _Unprocessable("Too recent start_time. Use a start_time older than 1 minute")


def _export_cursor(position: Position) -> str:
    """Zendesk's incremental cursor form: base64 of `<updated>||<id>|`."""
    return encode_token(f"{position[0]!r}||{position[1]}|")


def _export_position(cursor: str) -> Position:
    text = decode_token(cursor, code="InvalidPaginationParameter")
    updated, sep, rest = text.partition("||")
    try:
        if not sep or not rest.endswith("|"):
            raise ValueError(text)
        return float(updated), rest[:-1]
    except ValueError:
        raise BadRequest("invalid cursor", code="InvalidPaginationParameter") from None


def _list_cursor(order: str, position: Position) -> str:
    """A cursor-pagination token (Zendesk's are base64 JSON naming the sort and position)."""
    return encode_token(json.dumps({"o": order, "v": [position[0], position[1]]},
                                   separators=(",", ":")))


def _list_position(cursor: str, order: str) -> Position:
    text = decode_token(cursor, code="InvalidPaginationParameter")
    try:
        data = json.loads(text)
        if data["o"] != order:
            raise ValueError(order)
        return float(data["v"][0]), str(data["v"][1])
    except (ValueError, KeyError, TypeError, IndexError):
        raise BadRequest("invalid cursor", code="InvalidPaginationParameter") from None


# -- a filtered listing query ---------------------------------------------------------------

class _Listing:
    """One kind's objects under filters, paged by position or offset, ordered by (order, id).

    The store's `scan` has no offset and no body filters; ratings need both (`score`,
    Zendesk's offset pagination), so listings query the objects table directly, read-only.
    """

    def __init__(self, request: Request, kind: str, order: str) -> None:
        self.world = request.world
        self.kind = kind
        self.order = order
        self.clauses = ["vendor = ?", "kind = ?"]
        self.params: list[Any] = [VENDOR, kind]

    def where(self, clause: str, *params: Any) -> _Listing:
        self.clauses.append(clause)
        self.params.extend(params)
        return self

    def page(self, *, after: Position | None = None, before: Position | None = None,
             limit: int, offset: int = 0) -> list[tuple[float, str, dict[str, Any]]]:
        clauses, params = list(self.clauses), list(self.params)
        if after is not None:
            clauses.append(f"({self.order}, id) > (?, ?)")
            params.extend(after)
        if before is not None:
            clauses.append(f"({self.order}, id) < (?, ?)")
            params.extend(before)
        direction = "desc" if before is not None else "asc"
        rows = self.world.conn.execute(
            f"select {self.order}, id, body from objects where {' and '.join(clauses)} "
            f"order by {self.order} {direction}, id {direction} limit ? offset ?",
            (*params, limit, offset),
        ).fetchall()
        found = [(r[0], r[1], json.loads(r[2])) for r in rows]
        return found[::-1] if before is not None else found

    def count(self) -> int:
        return int(self.world.conn.execute(
            f"select count(*) from objects where {' and '.join(self.clauses)}", self.params,
        ).fetchone()[0])


def _page_size(request: Request) -> int:
    raw = request.arg("page[size]")
    if raw is None:
        return LIST_PAGE_MAX
    if not raw.isdigit() or not 1 <= int(raw) <= LIST_PAGE_MAX:
        raise BadRequest(f"page[size] must be an integer between 1 and {LIST_PAGE_MAX}",
                         code="InvalidPaginationParameter")
    return int(raw)


def _cursor_page(request: Request, listing: _Listing, key: str,
                 extra: dict[str, str | int]) -> Response:
    """Zendesk cursor pagination: `page[size]`, `page[after]`/`page[before]`, meta + links."""
    size = _page_size(request)
    after_token, before_token = request.arg("page[after]"), request.arg("page[before]")
    if after_token and before_token:
        raise BadRequest("use page[after] or page[before], not both",
                         code="InvalidPaginationParameter")
    after = _list_position(after_token, listing.order) if after_token else None
    before = _list_position(before_token, listing.order) if before_token else None
    rows = listing.page(after=after, before=before, limit=size + 1)
    has_more = len(rows) > size
    rows = rows[1:] if has_more and before is not None else rows[:size]
    first = _list_cursor(listing.order, rows[0][:2]) if rows else None
    last = _list_cursor(listing.order, rows[-1][:2]) if rows else None
    more_after = has_more if before is None else bool(rows)
    more_before = has_more if before is not None else bool(rows) and after is not None
    return json_response({
        key: [_served(body, request.base_url) for _, _, body in rows],
        "meta": {"has_more": has_more, "after_cursor": last, "before_cursor": first},
        "links": {
            "next": (_link(request, request.path,
                           {**extra, "page[size]": size, "page[after]": last})
                     if more_after and last else None),
            "prev": (_link(request, request.path,
                           {**extra, "page[size]": size, "page[before]": first})
                     if more_before and first else None),
        },
    })


def _offset_page(request: Request, listing: _Listing, key: str,
                 extra: dict[str, str | int]) -> Response:
    """Zendesk offset pagination (`page`, `per_page`), refused past page 100 as Zendesk does."""
    page = request.int_arg("page", 1, minimum=1)
    per_page = min(request.int_arg("per_page", LIST_PAGE_MAX, minimum=1), LIST_PAGE_MAX)
    if page > OFFSET_PAGES_MAX:
        raise BadRequest(f"Offset pagination is limited to {OFFSET_PAGES_MAX} pages; "
                         "use cursor pagination (page[size])", code="InvalidPaginationParameter")
    rows = listing.page(limit=per_page, offset=(page - 1) * per_page)
    total = listing.count()
    last_page = max(1, math.ceil(total / per_page))

    def page_url(number: int) -> str:
        return _link(request, request.path, {**extra, "page": number, "per_page": per_page})

    return json_response({
        key: [_served(body, request.base_url) for _, _, body in rows],
        "next_page": page_url(page + 1) if page < last_page else None,
        "previous_page": page_url(page - 1) if page > 1 else None,
        "count": total,
    })


def _list(request: Request, listing: _Listing, key: str,
          extra: dict[str, str | int] | None = None) -> Response:
    if any(name.startswith("page[") for name in request.query):
        return _cursor_page(request, listing, key, extra or {})
    return _offset_page(request, listing, key, extra or {})


# -- incremental exports --------------------------------------------------------------------

def _export_start(request: Request) -> tuple[Position, str | None]:
    """The export's starting position (exclusive) and the cursor it came from, if any."""
    cursor = request.arg("cursor")
    if cursor:
        return _export_position(cursor), cursor
    start_time = _unix_arg(request, "start_time")
    if start_time is None:
        raise BadRequest("start_time or cursor is required", code="InvalidValue")
    _check_start_time(request, start_time)
    return (float(start_time), ""), None


def _cursor_export(request: Request, kind: str, key: str) -> Response:
    """Zendesk's cursor-based incremental export over `kind`, answered under `key`."""
    per_page = min(request.int_arg("per_page", EXPORT_PAGE_MAX, minimum=1), EXPORT_PAGE_MAX)
    start, given_cursor = _export_start(request)
    include_deleted = request.arg("exclude_deleted", "false") != "true"
    rows = request.world.scan(VENDOR, kind, order="updated", after=start,
                              include_deleted=include_deleted, limit=per_page + 1)
    end_of_stream = len(rows) <= per_page
    rows = rows[:per_page]
    after_cursor = _export_cursor(rows[-1][:2]) if rows else given_cursor
    before_cursor = given_cursor or (_export_cursor(start) if rows else None)
    carried = {name: value for name in ("per_page", "include", "exclude_deleted")
               if (value := request.arg(name))}
    body: dict[str, Any] = {
        key: [_served(obj, request.base_url) for _, _, obj in rows],
        "after_url": (_link(request, request.path, {**carried, "cursor": after_cursor})
                      if after_cursor else None),
        "after_cursor": after_cursor,
        "before_url": (_link(request, request.path, {**carried, "cursor": before_cursor})
                       if before_cursor else None),
        "before_cursor": before_cursor,
        "end_of_stream": end_of_stream,
    }
    if kind == render.TICKETS and "metric_sets" in (request.arg("include") or "").split(","):
        body["metric_sets"] = _metric_sets(request, [obj["id"] for _, _, obj in rows])
    return json_response(body)


def _metric_sets(request: Request, ticket_ids: list[int]) -> list[dict[str, Any]]:
    found = (request.world.get(VENDOR, render.TICKET_METRICS, str(render.metric_id(ticket_id)))
             for ticket_id in ticket_ids)
    return [_served(metric, request.base_url) for metric in found if metric is not None]


def _time_export(request: Request, kind: str, key: str) -> Response:
    """Zendesk's time-based incremental export (organizations)."""
    per_page = min(request.int_arg("per_page", EXPORT_PAGE_MAX, minimum=1), EXPORT_PAGE_MAX)
    start_time = _unix_arg(request, "start_time")
    if start_time is None:
        raise BadRequest("start_time is required", code="InvalidValue")
    _check_start_time(request, start_time)
    world = request.world
    rows = world.scan(VENDOR, kind, order="updated", since=float(start_time), limit=per_page + 1)
    if len(rows) > per_page:
        rows = rows[:per_page]
        tail_second = math.floor(rows[-1][0])
        rows += world.scan(VENDOR, kind, order="updated", after=rows[-1][:2],
                           until=float(tail_second + 1), limit=SAME_SECOND_MAX)
        end_time = tail_second + 1
        end_of_stream = not world.scan(VENDOR, kind, order="updated", after=rows[-1][:2],
                                       limit=1)
    else:
        end_time = math.floor(rows[-1][0]) if rows else start_time
        end_of_stream = True
    return json_response({
        key: [_served(obj, request.base_url) for _, _, obj in rows],
        "count": len(rows),
        "end_time": end_time,
        "end_of_stream": end_of_stream,
        "next_page": _link(request, request.path, {"start_time": end_time}),
    })


def _ratings_listing(request: Request) -> tuple[_Listing, dict[str, str | int]]:
    listing = _Listing(request, render.SATISFACTION_RATINGS, "updated")
    extra: dict[str, str | int] = {}
    start_time, end_time = _unix_arg(request, "start_time"), _unix_arg(request, "end_time")
    if start_time is not None:
        listing.where("updated >= ?", float(start_time))
        extra["start_time"] = start_time
    if end_time is not None:
        listing.where("updated < ?", float(end_time))
        extra["end_time"] = end_time
    score = request.arg("score")
    if score:
        if score not in RATING_SCORES:
            raise BadRequest(f"score must be one of {', '.join(RATING_SCORES)}",
                             code="InvalidValue")
        scores, with_comment = RATING_SCORES[score]
        listing.where(f"json_extract(body, '$.score') in ({','.join('?' * len(scores))})",
                      *scores)
        if with_comment is not None:
            has_comment = "coalesce(json_extract(body, '$.comment'), '') != ''"
            listing.where(has_comment if with_comment else f"not ({has_comment})")
        extra["score"] = score
    return listing, extra


def _unix_of_body(body: dict[str, Any], name: str) -> float:
    """A fixture object's ISO time field as POSIX seconds; ValueError naming a missing field."""
    value = body.get(name)
    if not isinstance(value, str):
        raise ValueError(f"zendesk fixture object lacks {name!r}")
    return parse_iso(value, name=name)


@register_vendor
class Zendesk(Vendor):
    """The sandbox's Zendesk Support."""

    name = VENDOR
    default_rate_limit = RateLimit(700, 60.0)

    def routes(self) -> list[Route]:
        def export(kind: str, key: str, exporter: Callable[[Request, str, str], Response],
                   ) -> Callable[[Request], Response]:
            return lambda request: self._guarded(lambda: exporter(request, kind, key))

        return [
            Route("GET", r"/api/v2/incremental/tickets/cursor(?:\.json)?",
                  export(render.TICKETS, "tickets", _cursor_export), "incremental.tickets"),
            Route("GET", r"/api/v2/incremental/users/cursor(?:\.json)?",
                  export(render.USERS, "users", _cursor_export), "incremental.users"),
            Route("GET", r"/api/v2/incremental/organizations(?:\.json)?",
                  export(render.ORGANIZATIONS, "organizations", _time_export),
                  "incremental.organizations"),
            Route("GET", r"/api/v2/organizations(?:\.json)?", self._organizations,
                  "organizations.list"),
            Route("GET", r"/api/v2/ticket_metrics(?:\.json)?", self._ticket_metrics,
                  "ticket_metrics.list"),
            Route("GET", r"/api/v2/satisfaction_ratings(?:\.json)?", self._ratings,
                  "satisfaction_ratings.list"),
            Route("GET", r"/api/v2/tickets/(?P<ticket_id>\d+)(?:\.json)?", self._ticket,
                  "tickets.show"),
        ]

    def _guarded(self, answer: Callable[[], Response]) -> Response:
        try:
            return answer()
        except _Unprocessable as exc:
            return self.error(422, str(exc), "InvalidValue")

    def _organizations(self, request: Request) -> Response:
        return _list(request, _Listing(request, render.ORGANIZATIONS, "created"),
                     "organizations")

    def _ticket_metrics(self, request: Request) -> Response:
        return _list(request, _Listing(request, render.TICKET_METRICS, "created"),
                     "ticket_metrics")

    def _ratings(self, request: Request) -> Response:
        listing, extra = _ratings_listing(request)
        return _list(request, listing, "satisfaction_ratings", extra)

    def _ticket(self, request: Request) -> Response:
        ticket = request.world.get(VENDOR, render.TICKETS, request.params["ticket_id"])
        if ticket is None:
            return self.error(404, "Not found", "RecordNotFound")
        return json_response({"ticket": _served(ticket, request.base_url)})

    # -- auth, limits, errors ---------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        api_token = self.secrets["zendesk_api_token"]
        token = bearer_token(request)
        if token is not None:
            return None if secret_equals(token, api_token) else self._unauthenticated()
        scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return self._unauthenticated()
        try:
            user, _, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeError, ValueError):
            return self._unauthenticated()
        expected_user = f"{self.secrets['zendesk_email']}/token"
        if secret_equals(user, expected_user) & secret_equals(password, api_token):
            return None
        return self._unauthenticated()

    @staticmethod
    def _unauthenticated() -> Response:
        return json_response({"error": "Couldn't authenticate you"}, status=401)

    def rate_limited(self, retry_after: float, limit: RateLimit) -> Response:
        return json_response(
            {"error": "APIRateLimitExceeded",
             "description": "Number of allowed API requests per minute exceeded"},
            status=429,
            headers={"Retry-After": retry_after_header(retry_after),
                     **self.rate_limit_headers(limit, 0)},
        )

    def rate_limit_headers(self, limit: RateLimit, remaining: int) -> dict[str, str]:
        return {"X-Rate-Limit": str(limit.limit), "X-Rate-Limit-Remaining": str(remaining)}

    def error(self, status: int, message: str, code: str = "error") -> Response:
        if status == 401:
            return self._unauthenticated()
        name = code if code[:1].isupper() else ERROR_NAMES.get(status, "InternalError")
        return json_response({"error": name, "description": message}, status=status)

    def records(self, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, dict):
            return []
        if isinstance(body.get("ticket"), dict):
            return [body["ticket"]]
        return [record for key in LIST_KEYS if isinstance(body.get(key), list)
                for record in body[key] if isinstance(record, dict)]

    def load_fixture(self, kind: str, body: dict[str, Any], sink: Sink) -> None:
        """Zendesk objects as the API returns them; also the internal account index an
        exported sandbox world carries (`_org_by_account`)."""
        if kind == render.ORG_BY_ACCOUNT:
            for name in ("account_key", "organization_id", "created"):
                if name not in body:
                    raise ValueError(f"zendesk {kind} entry lacks {name!r}")
            sink.upsert(VendorObject(VENDOR, kind, str(body["account_key"]),
                                     float(body["created"]), float(body["created"]), body))
            return
        if kind not in FIXTURE_KINDS:
            raise ValueError(f"zendesk fixtures hold {', '.join(FIXTURE_KINDS)}; not {kind!r}")
        if "id" not in body:
            raise ValueError("zendesk fixture object lacks 'id'")
        created = _unix_of_body(body, "created_at")
        updated = _unix_of_body(body, "updated_at") if "updated_at" in body else created
        sink.upsert(VendorObject(VENDOR, kind, str(body["id"]), created, updated, body,
                                 deleted=body.get("status") == "deleted"))

    def share_one_timestamp(self, request: Request, kind: str, count: int) -> int:
        """Give the `count` most recently updated objects of `kind` one shared update time.

        The time is the whole second of the newest of them, written to the `updated` column
        and the body's `updated_at` (and tickets' `generated_timestamp`), so the export sees
        a block of records it must page through without losing or repeating any.
        """
        store_kind = SHARED_TIMESTAMP_KINDS.get(kind)
        if store_kind is None:
            raise BadRequest(f"zendesk can share a timestamp among "
                             f"{', '.join(sorted(set(SHARED_TIMESTAMP_KINDS.values())))}")
        if count < 1:
            raise BadRequest("count must be at least 1")
        newest = request.world.scan(VENDOR, store_kind, order="updated", descending=True,
                                    limit=1)
        if not newest:
            return 0
        stamp = float(math.floor(newest[0][0]))
        extra = ", '$.generated_timestamp', ?" if store_kind == render.TICKETS else ""
        params: tuple[Any, ...] = (stamp, iso_utc(stamp), *((int(stamp),) if extra else ()),
                                   store_kind, store_kind, count)
        return request.world.mutate_objects(
            f"update objects set updated = ?, body = json_set(body, '$.updated_at', ?{extra}) "
            "where vendor = 'zendesk' and kind = ? and id in (select id from objects where "
            "vendor = 'zendesk' and kind = ? order by updated desc, id desc limit ?)",
            params,
        )
