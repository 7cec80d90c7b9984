"""Stripe list semantics over the world store: filters, `created[...]` ranges, cursors, expand.

Stripe lists newest first (created desc, ties by id), page with `starting_after` /
`ending_before` naming an object id, and take filters as form parameters (`created[gte]=`,
`types[]=`, `status=`). Filters on fields inside the stored JSON are pushed into SQLite
(`json_extract`) so a filtered page costs one query, not a scan of decoded objects; that is
why this module queries the store's `objects`/`events` tables itself rather than going
through `WorldReader.scan`, which only bounds the time column.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any

from integrations.sandbox.routing import BadRequest, Request
from integrations.sandbox.vendors.stripe_objects import VENDOR

PAGE_PARAMS = frozenset({"limit", "starting_after", "ending_before", "expand", "created"})
RANGE_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
EMBEDDED_LIST_LIMIT = 10
"""Stripe embeds at most this many entries of a sub-list (invoice lines) in an object."""

EXPANDABLE: Mapping[str, str] = {
    "customer": "customers", "invoice": "invoices", "latest_invoice": "invoices",
    "charge": "charges", "subscription": "subscriptions", "product": "products",
    "default_price": "prices",
}
"""Fields holding an id that `expand[]` can replace by the object, and that object's kind."""


class StripeError(BadRequest):
    """A request error with Stripe's full error detail (`param`, status, error type)."""

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None,
                 status: int = 400, error_type: str = "invalid_request_error") -> None:
        super().__init__(message, code=code or "")
        self.param = param
        self.status = status
        self.error_type = error_type


def error_body(message: str, *, code: str | None = None, param: str | None = None,
               error_type: str = "invalid_request_error") -> dict[str, Any]:
    """Stripe's error envelope; coded errors link to their documentation page as Stripe's do."""
    error: dict[str, Any] = {"message": message, "type": error_type}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return {"error": error}


Clause = tuple[str, list[Any]]
"""One SQL condition and its parameters."""


@dataclass(frozen=True)
class Listing:
    """How one list endpoint filters: which parameters it takes and what each one tests.

    `equal`/`flags`/`ranges`/`within` map a parameter to the JSON path it tests (equality,
    boolean, integer range, membership of an id list); each `custom` entry names the
    parameters one function reads and builds the clauses for (a subscription's status, an
    event's `type`/`types`).
    """

    kind: str
    noun: str
    equal: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, str] = field(default_factory=dict)
    ranges: Mapping[str, str] = field(default_factory=dict)
    within: Mapping[str, str] = field(default_factory=dict)
    custom: tuple[tuple[tuple[str, ...], Callable[[Request], list[Clause]]], ...] = ()
    ignored: frozenset[str] = frozenset()

    @property
    def url(self) -> str:
        return f"/v1/{self.kind}"

    def accepted(self) -> frozenset[str]:
        return PAGE_PARAMS | self.ignored | frozenset(
            [*self.equal, *self.flags, *self.ranges, *self.within,
             *(param for params, _ in self.custom for param in params)])


def base_name(key: str) -> str:
    """`created[gte]` -> `created`, `types[0]` -> `types`."""
    return key.split("[", 1)[0]


def reject_unknown(request: Request, accepted: frozenset[str]) -> None:
    """Stripe answers 400 to a parameter it does not know rather than ignoring it."""
    for key in request.query:
        if base_name(key) not in accepted:
            raise StripeError(f"Received unknown parameter: {key}", code="parameter_unknown",
                              param=key)


def array_arg(request: Request, name: str) -> list[str]:
    """An array parameter in any encoding clients use: `a[]=x`, `a[0]=x` or `a=x`."""
    indexed = sorted((int(found.group(1)), value) for key, values in request.query.items()
                     if (found := re.fullmatch(rf"{re.escape(name)}\[(\d+)\]", key))
                     for value in values)
    return [*request.args(name), *request.args(f"{name}[]"), *(v for _, v in indexed)]


def integer(raw: str, param: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise StripeError(f"Invalid integer: {raw}", code="parameter_invalid_integer",
                          param=param) from None


def boolean(raw: str, param: str) -> int:
    """Stripe's form booleans; returned as SQLite stores JSON booleans (1/0)."""
    if raw not in ("true", "false"):
        raise StripeError(f"Invalid boolean: {raw}", code="parameter_invalid_boolean",
                          param=param)
    return int(raw == "true")


def limit_arg(request: Request) -> int:
    """`limit`: 1 to 100, default 10, errors worded as Stripe words them."""
    raw = request.arg("limit")
    if raw is None:
        return 10
    value = integer(raw, "limit")
    if value < 1:
        raise StripeError("This value must be greater than or equal to 1.",
                          code="parameter_invalid_integer", param="limit")
    if value > 100:
        raise StripeError("This value must be less than or equal to 100.",
                          code="parameter_invalid_integer", param="limit")
    return value


def range_clauses(request: Request, param: str, column: str) -> list[Clause]:
    """`param=N` (exact) and `param[gt|gte|lt|lte]=N` as SQL conditions on `column`."""
    clauses: list[Clause] = []
    for key, values in request.query.items():
        if key == param:
            operator = "="
        elif (found := re.fullmatch(rf"{re.escape(param)}\[(\w+)\]", key)):
            if found.group(1) not in RANGE_OPERATORS:
                raise StripeError(f"Received unknown parameter: {key}",
                                  code="parameter_unknown", param=key)
            operator = RANGE_OPERATORS[found.group(1)]
        else:
            continue
        clauses += [(f"{column} {operator} ?", [integer(value, key)]) for value in values]
    return clauses


def json_path(path: str) -> str:
    return f"json_extract(body, '$.{path}')"


def filter_clauses(request: Request, listing: Listing) -> list[Clause]:
    """Every filter of `listing` the request uses, as SQL conditions."""
    clauses = range_clauses(request, "created", "created")
    for param, path in listing.ranges.items():
        clauses += range_clauses(request, param, json_path(path))
    for param, path in listing.equal.items():
        if (value := request.arg(param)) is not None:
            clauses.append((f"{json_path(path)} = ?", [value]))
    for param, path in listing.flags.items():
        if (value := request.arg(param)) is not None:
            clauses.append((f"{json_path(path)} = ?", [boolean(value, param)]))
    for param, path in listing.within.items():
        if values := array_arg(request, param):
            clauses.append((f"{json_path(path)} in ({','.join('?' * len(values))})", values))
    for _, custom in listing.custom:
        clauses += custom(request)
    return clauses


@dataclass(frozen=True)
class Source:
    """Where a list reads from: the live objects of one kind, or (kind None) the events."""

    kind: str | None

    @property
    def table(self) -> str:
        return "events" if self.kind is None else "objects"

    @property
    def tiebreak(self) -> str:
        """Order among equal `created`: events keep the order they happened in."""
        return "seq" if self.kind is None else "id"

    def scope(self, *, live_only: bool = True) -> Clause:
        if self.kind is None:
            return "vendor = ?", [VENDOR]
        live = " and deleted = 0" if live_only else ""
        return f"vendor = ? and kind = ?{live}", [VENDOR, self.kind]

    def position(self, conn: sqlite3.Connection, object_id: str) -> tuple[float, Any] | None:
        """The (created, tiebreak) position of an object, whatever the filters say."""
        sql, params = self.scope(live_only=False)
        row = conn.execute(
            f"select created, {self.tiebreak} from {self.table} where {sql} and id = ?",
            (*params, object_id),
        ).fetchone()
        return (row[0], row[1]) if row else None


def cursor_clause(request: Request, source: Source, noun: str) -> tuple[Clause | None, bool]:
    """The paging condition from `starting_after`/`ending_before`; True if paging backwards."""
    after, before = request.arg("starting_after"), request.arg("ending_before")
    if after is not None and before is not None:
        raise StripeError("You may only specify one of these parameters: ending_before, "
                          "starting_after.")
    if after is None and before is None:
        return None, False
    param, object_id = ("starting_after", after) if after is not None else ("ending_before",
                                                                             before)
    position = source.position(request.world.conn, str(object_id))
    if position is None:
        raise StripeError(f"No such {noun}: '{object_id}'", code="resource_missing",
                          param=param)
    operator = "<" if param == "starting_after" else ">"
    return (f"(created, {source.tiebreak}) {operator} (?, ?)", list(position)), (
        param == "ending_before")


EVENT_RETENTION_SECONDS = 30 * 86400
"""Stripe keeps events 30 days: older ones are neither listed nor retrievable. A connector
must take history from objects and invoices, so the sandbox must not offer more than this."""


def event_retention_start(request: Request) -> float | None:
    """The oldest `created` still retained, relative to the world clock (None: no clock)."""
    clock = request.world.meta("clock")
    if clock is None:
        return None
    now = datetime.combine(date.fromisoformat(clock) + timedelta(days=1), dt_time.min,
                           tzinfo=UTC)
    return now.timestamp() - EVENT_RETENTION_SECONDS


def fetch_page(request: Request, source: Source, noun: str, clauses: list[Clause],
               ) -> tuple[list[dict[str, Any]], bool]:
    """One page, newest first, and whether more objects lie beyond it in paging direction."""
    limit = limit_arg(request)
    cursor, backwards = cursor_clause(request, source, noun)
    retention = event_retention_start(request) if source.kind is None else None
    if retention is not None:
        clauses = [*clauses, ("created >= ?", [retention])]
    conditions = [source.scope(), *clauses, *([cursor] if cursor else [])]
    where = " and ".join(f"({sql})" for sql, _ in conditions)
    params = [value for _, values in conditions for value in values]
    direction = "asc" if backwards else "desc"
    rows = request.world.conn.execute(
        f"select body from {source.table} where {where} "
        f"order by created {direction}, {source.tiebreak} {direction} limit ?",
        (*params, limit + 1),
    ).fetchall()
    bodies = [json.loads(row[0]) for row in rows[:limit]]
    if backwards:
        bodies.reverse()
    return bodies, len(rows) > limit


def list_envelope(data: list[dict[str, Any]], has_more: bool, url: str) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def present(body: dict[str, Any]) -> dict[str, Any]:
    """An object as served: invoices embed only their first 10 lines, as Stripe does."""
    if body.get("object") == "invoice":
        lines = body["lines"]["data"]
        if len(lines) > EMBEDDED_LIST_LIMIT:
            body = {**body, "lines": {**body["lines"], "data": lines[:EMBEDDED_LIST_LIMIT],
                                      "has_more": True}}
    elif body.get("object") == "event":
        body = {**body, "data": {**body["data"], "object": present(body["data"]["object"])}}
    return body


def expand(request: Request, body: dict[str, Any], paths: list[str], *, in_list: bool,
           ) -> dict[str, Any]:
    """Apply `expand[]` paths: replace ids by the objects they name.

    List paths start with `data.`. Fields that hold no id (already embedded, or null) stay as
    they are, as in Stripe; unknown fields are left alone rather than refused.
    """
    for path in paths:
        parts = path.split(".")
        if in_list:
            if parts[0] != "data":
                continue
            parts = parts[1:]
        _expand_path(request, body, parts)
    return body


def _expand_path(request: Request, node: Any, parts: list[str]) -> None:
    if not parts:
        return
    if isinstance(node, list):
        for entry in node:
            _expand_path(request, entry, parts)
        return
    if not isinstance(node, dict):
        return
    name, rest = parts[0], parts[1:]
    value = node.get(name)
    if isinstance(value, str) and name in EXPANDABLE:
        found = request.world.get(VENDOR, EXPANDABLE[name], value)
        if found is not None:
            node[name] = value = present(found)
    _expand_path(request, value, rest)


def retrieve(request: Request, kind: str, noun: str, object_id: str) -> dict[str, Any]:
    """One object as Stripe returns it; a deleted one as its `deleted: true` stub."""
    row = request.world.conn.execute(
        "select body, deleted from objects where vendor = ? and kind = ? and id = ?",
        (VENDOR, kind, object_id),
    ).fetchone()
    if row is None:
        raise StripeError(f"No such {noun}: '{object_id}'", code="resource_missing",
                          param="id", status=404)
    if row[1]:
        return {"id": object_id, "object": noun, "deleted": True}
    return present(json.loads(row[0]))


def retrieve_event(request: Request, event_id: str) -> dict[str, Any]:
    """One event by id (events are immutable: the object as it was when it happened)."""
    row = request.world.conn.execute(
        "select body from events where vendor = ? and id = ? and created >= ?",
        (VENDOR, event_id, event_retention_start(request) or 0.0),
    ).fetchone()
    if row is None:
        raise StripeError(f"No such event: '{event_id}'", code="resource_missing", param="id",
                          status=404)
    return present(json.loads(row[0]))


def page_embedded(request: Request, entries: list[dict[str, Any]], noun: str,
                  ) -> tuple[list[dict[str, Any]], bool]:
    """A page of a sub-list held inside one object (an invoice's lines), in its own order."""
    limit = limit_arg(request)
    after, before = request.arg("starting_after"), request.arg("ending_before")
    if after is not None and before is not None:
        raise StripeError("You may only specify one of these parameters: ending_before, "
                          "starting_after.")
    ids = [entry["id"] for entry in entries]
    for param, object_id in (("starting_after", after), ("ending_before", before)):
        if object_id is not None and object_id not in ids:
            raise StripeError(f"No such {noun}: '{object_id}'", code="resource_missing",
                              param=param)
    if before is not None:
        end = ids.index(before)
        start = max(0, end - limit)
        return entries[start:end], start > 0
    start = ids.index(after) + 1 if after is not None else 0
    return entries[start:start + limit], start + limit < len(entries)
