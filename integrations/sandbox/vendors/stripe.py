"""The Stripe API (version 2023-08-16) as the sandbox serves it under `/stripe`.

Routes, auth, errors and rate limit of the real API: `GET /v1/<objects>` lists newest first
with Stripe's cursors and filters, `GET /v1/<objects>/{id}` retrieves, `GET /v1/events` is the
change feed connectors read history from, and `POST /v1/customers/{id}` updates metadata with
idempotency keys. Objects are rendered at write time (`stripe_render`, shapes in
`stripe_objects` and `stripe_billing_objects`, events in `stripe_events`); list semantics live
in `stripe_query`, writes in `stripe_writes`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from typing import Any

from integrations.sandbox.routing import (
    BadRequest,
    Handler,
    RateLimit,
    Request,
    Response,
    Route,
    Vendor,
    json_response,
)
from integrations.sandbox.store import Sink, VendorObject
from integrations.sandbox.vendors import register_vendor
from integrations.sandbox.vendors.stripe_objects import API_VERSION, VENDOR
from integrations.sandbox.vendors.stripe_query import (
    Clause,
    Listing,
    Source,
    StripeError,
    array_arg,
    boolean,
    error_body,
    expand,
    fetch_page,
    filter_clauses,
    json_path,
    list_envelope,
    page_embedded,
    present,
    reject_unknown,
    retrieve,
    retrieve_event,
)
from integrations.sandbox.vendors.stripe_render import PARKED_KIND
from integrations.sandbox.vendors.stripe_writes import (
    IDEMPOTENCY_KIND,
    new_request_id,
    update_customer,
)

SUBSCRIPTION_STATUSES = ("active", "canceled", "incomplete", "incomplete_expired", "past_due",
                         "paused", "trialing", "unpaid")
INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")
FIXTURE_KINDS = {"customers": "customer", "subscriptions": "subscription",
                 "invoices": "invoice", "charges": "charge", "prices": "price",
                 "products": "product", "coupons": "coupon"}
"""Fixture file kinds (besides "events") and the `object` value their entries must have."""
INTERNAL_KINDS = frozenset({IDEMPOTENCY_KIND, PARKED_KIND})
"""Never served, but part of a world's state, so an exported world reloads identically."""

NO_API_KEY = ("You did not provide an API key. You need to provide your API key in the "
              "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
              "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
              "or we can help at https://support.stripe.com/.")
STRIPE_ERROR_CODES = frozenset({
    "resource_missing", "parameter_unknown", "parameter_invalid_integer",
    "parameter_invalid_boolean", "parameter_missing", "email_invalid", "rate_limit"})
"""Codes Stripe itself uses; other codes a caller passes to `error` are not put on the wire."""
RATE_LIMITED = ("Request rate limit exceeded. You can learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.")


def one_of(param: str, allowed: tuple[str, ...], value: str) -> str:
    """An enum parameter's value, or Stripe's 400 listing the allowed ones."""
    if value not in allowed:
        raise StripeError(f"Invalid {param}: must be one of {', '.join(allowed)}", param=param)
    return value


def subscription_status(request: Request) -> list[Clause]:
    """`status`: by default every subscription that is not canceled, as Stripe lists them."""
    status = request.arg("status")
    if status is None:
        return [(f"{json_path('status')} != 'canceled'", [])]
    if status == "all":
        return []
    if status == "ended":
        return [(f"{json_path('status')} in ('canceled', 'incomplete_expired')", [])]
    one_of("status", (*SUBSCRIPTION_STATUSES, "all", "ended"), status)
    return [(f"{json_path('status')} = ?", [status])]


def subscription_price(request: Request) -> list[Clause]:
    """`price`: subscriptions with an item on that price."""
    price = request.arg("price")
    if price is None:
        return []
    return [("exists (select 1 from json_each(body, '$.items.data') "
             "where json_extract(value, '$.price.id') = ?)", [price])]


def subscription_automatic_tax(request: Request) -> list[Clause]:
    raw = request.arg("automatic_tax[enabled]")
    if raw is None:
        return []
    return [(f"{json_path('automatic_tax.enabled')} = ?",
             [boolean(raw, "automatic_tax[enabled]")])]


def invoice_status(request: Request) -> list[Clause]:
    status = request.arg("status")
    if status is None:
        return []
    return [(f"{json_path('status')} = ?", [one_of("status", INVOICE_STATUSES, status)])]


def price_recurring(request: Request) -> list[Clause]:
    clauses: list[Clause] = []
    for part, allowed in (("interval", ("day", "month", "week", "year")),
                          ("usage_type", ("licensed", "metered"))):
        param = f"recurring[{part}]"
        if (value := request.arg(param)) is not None:
            clauses.append((f"{json_path('recurring.' + part)} = ?",
                            [one_of(param, allowed, value)]))
    return clauses


def event_type(request: Request) -> list[Clause]:
    """`type` (one type, `*` as wildcard: `invoice.*`) or `types[]` (exact types), not both."""
    pattern, types = request.arg("type"), array_arg(request, "types")
    if pattern is not None and types:
        raise StripeError("You may only specify one of these parameters: type, types.")
    if pattern is not None:
        return [("type glob ?", [pattern])] if "*" in pattern else [("type = ?", [pattern])]
    if types:
        return [(f"type in ({','.join('?' * len(types))})", types)]
    return []


LISTINGS: dict[str, Listing] = {listing.kind: listing for listing in (
    Listing("customers", "customer", equal={"email": "email", "test_clock": "test_clock"}),
    Listing("subscriptions", "subscription",
            equal={"customer": "customer", "collection_method": "collection_method",
                   "test_clock": "test_clock"},
            ranges={"current_period_start": "current_period_start",
                    "current_period_end": "current_period_end"},
            custom=((("status",), subscription_status), (("price",), subscription_price),
                    (("automatic_tax",), subscription_automatic_tax))),
    Listing("invoices", "invoice",
            equal={"customer": "customer", "subscription": "subscription",
                   "collection_method": "collection_method"},
            ranges={"due_date": "due_date"}, custom=((("status",), invoice_status),)),
    Listing("charges", "charge",
            equal={"customer": "customer", "payment_intent": "payment_intent",
                   "transfer_group": "transfer_group"}),
    Listing("prices", "price", equal={"currency": "currency", "product": "product",
                                      "type": "type"},
            flags={"active": "active"}, within={"lookup_keys": "lookup_key"},
            custom=((("recurring",), price_recurring),)),
    Listing("products", "product", equal={"url": "url"},
            flags={"active": "active", "shippable": "shippable"}, within={"ids": "id"}),
    Listing("coupons", "coupon"),
    Listing("events", "event", custom=((("type", "types"), event_type),),
            ignored=frozenset({"delivery_success"})),
)}


def mask_key(key: str) -> str:
    """A presented API key with everything after its public prefix hidden."""
    prefix = re.match(r"(sk|rk|pk)_(test|live)_", key)
    return (prefix.group(0) if prefix else "") + "*" * 24


def presented_key(authorization: str | None) -> str | None:
    """The API key from `Bearer <key>` or HTTP basic auth with the key as user name."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(value, validate=True).decode("utf-8").partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user or None
    return None


def stripe_headers(headers: dict[str, str] | None = None) -> dict[str, str]:
    """Headers every Stripe response carries, plus `headers`."""
    return {"Request-Id": new_request_id(), "Stripe-Version": API_VERSION, **(headers or {})}


@register_vendor
class Stripe(Vendor):
    """Stripe's REST API, version 2023-08-16 only."""

    name = "stripe"
    default_rate_limit = RateLimit(100, 1.0)
    """Live mode's published limit: 100 read operations per second."""

    def routes(self) -> list[Route]:
        routes = [Route("POST", r"/v1/customers/(?P<id>[^/]+)", self._guard(self.update),
                        "customers.update", write=True),
                  Route("GET", r"/v1/invoices/(?P<id>[^/]+)/lines",
                        self._guard(self.invoice_lines), "invoices.lines")]
        for kind, listing in LISTINGS.items():
            routes.append(Route("GET", rf"/v1/{kind}", self._guard(self._lister(listing)),
                                f"{kind}.list"))
            routes.append(Route("GET", rf"/v1/{kind}/(?P<id>[^/]+)",
                                self._guard(self._retriever(listing)), f"{kind}.retrieve"))
        routes += [Route(method, r"/.*", self._guard(self.unrecognized), "unrecognized")
                   for method in ("GET", "POST", "DELETE")]
        return routes

    def _guard(self, handler: Handler) -> Handler:
        """Wrap a handler: refuse other API versions, render errors with Stripe's detail."""
        def guarded(request: Request) -> Response:
            try:
                self._check_version(request)
                response = handler(request)
            except StripeError as exc:
                return self._error(exc.status, error_body(
                    exc.message, code=exc.code, param=exc.param, error_type=exc.error_type))
            except BadRequest as exc:
                return self.error(400, exc.message, exc.code)
            response.headers = stripe_headers(response.headers)
            return response
        return guarded

    @staticmethod
    def _check_version(request: Request) -> None:
        version = request.header("Stripe-Version")
        if version is not None and version.strip() != API_VERSION:
            raise StripeError(
                f"Invalid Stripe API version: {version.strip()[:40]}. This sandbox serves "
                f"Stripe API version {API_VERSION} only: send 'Stripe-Version: {API_VERSION}' "
                f"or no Stripe-Version header.")

    @staticmethod
    def _lister(listing: Listing) -> Handler:
        def list_objects(request: Request) -> Response:
            reject_unknown(request, listing.accepted())
            source = Source(None if listing.kind == "events" else listing.kind)
            data, has_more = fetch_page(request, source, listing.noun,
                                        filter_clauses(request, listing))
            paths = array_arg(request, "expand")
            data = [expand(request, present(body), paths, in_list=True) for body in data]
            return json_response(list_envelope(data, has_more, listing.url))
        return list_objects

    @staticmethod
    def _retriever(listing: Listing) -> Handler:
        def retrieve_object(request: Request) -> Response:
            reject_unknown(request, frozenset({"expand"}))
            object_id = request.params["id"]
            body = (retrieve_event(request, object_id) if listing.kind == "events"
                    else retrieve(request, listing.kind, listing.noun, object_id))
            return json_response(expand(request, body, array_arg(request, "expand"),
                                        in_list=False))
        return retrieve_object

    @staticmethod
    def unrecognized(request: Request) -> Response:
        """Stripe's own 404 for a URL it does not serve (matched last)."""
        raise StripeError(f"Unrecognized request URL ({request.method}: {request.path}). "
                          "Please see https://stripe.com/docs or we can help at "
                          "https://support.stripe.com/.", status=404)

    @staticmethod
    def invoice_lines(request: Request) -> Response:
        """`GET /v1/invoices/{id}/lines`: all lines of an invoice, 10 per page by default."""
        reject_unknown(request, frozenset({"limit", "starting_after", "ending_before",
                                           "expand"}))
        invoice_id = request.params["id"]
        invoice = request.world.get(VENDOR, "invoices", invoice_id)
        if invoice is None:
            raise StripeError(f"No such invoice: '{invoice_id}'", code="resource_missing",
                              param="id", status=404)
        lines, has_more = page_embedded(request, invoice["lines"]["data"], "line item")
        return json_response(list_envelope(lines, has_more, invoice["lines"]["url"]))

    @staticmethod
    def update(request: Request) -> Response:
        """`POST /v1/customers/{id}`: form-encoded update, replayed per Idempotency-Key."""
        outcome = update_customer(request, request.params["id"])
        headers = {"Request-Id": outcome.request_id}
        if key := request.header("Idempotency-Key"):
            headers["Idempotency-Key"] = key
        if outcome.replayed_from:
            headers.update({"Idempotent-Replayed": "true",
                            "Original-Request": outcome.replayed_from})
        return json_response(outcome.body, outcome.status, headers)

    def authenticate(self, request: Request) -> Response | None:
        key = presented_key(request.header("Authorization"))
        if key is None:
            return self._unauthorized(NO_API_KEY)
        if not hmac.compare_digest(key.encode(), self.secrets["stripe_api_key"].encode()):
            return self._unauthorized(f"Invalid API Key provided: {mask_key(key)}")
        return None

    def _unauthorized(self, message: str) -> Response:
        return json_response(error_body(message), 401, stripe_headers(
            {"WWW-Authenticate": 'Basic realm="Stripe"'}))

    def rate_limited(self, retry_after: float, limit: RateLimit) -> Response:
        return json_response(error_body(RATE_LIMITED, code="rate_limit"), 429,
                             stripe_headers())

    def error(self, status: int, message: str, code: str = "error") -> Response:
        """Stripe's envelope: `api_error` for 5xx, `invalid_request_error` otherwise."""
        error_type = "api_error" if status >= 500 else "invalid_request_error"
        return self._error(status, error_body(
            message, code=code if code in STRIPE_ERROR_CODES else None, error_type=error_type))

    @staticmethod
    def _error(status: int, body: dict[str, Any]) -> Response:
        return json_response(body, status, stripe_headers())

    def records(self, body: Any) -> list[dict[str, Any]]:
        """List entries (events are records themselves), or the one object retrieved."""
        if not isinstance(body, dict) or "error" in body:
            return []
        if body.get("object") == "list":
            return [entry for entry in body.get("data", []) if isinstance(entry, dict)]
        return [body] if "id" in body else []

    def load_fixture(self, kind: str, body: dict[str, Any], sink: Sink) -> None:
        """Store one object of a `stripe/<kind>.json` fixture (kinds: FIXTURE_KINDS, events).

        The internal kinds of an exported world (idempotency keys, parked invoices) load as
        they were written.
        """
        if kind in INTERNAL_KINDS:
            _load_internal(kind, body, sink)
            return
        expected = "event" if kind == "events" else FIXTURE_KINDS.get(kind)
        if expected is None:
            raise ValueError(f"stripe fixtures have no kind {kind!r}; expected one of "
                             f"{', '.join([*FIXTURE_KINDS, 'events'])}")
        for name in ("id", "object", "created", *(("type",) if kind == "events" else ())):
            if name not in body:
                raise ValueError(f"stripe {kind} fixture object lacks {name!r}")
        if body["object"] != expected:
            raise ValueError(f"stripe {kind} fixture holds a {body['object']!r}, "
                             f"not a {expected!r}")
        if kind == "events":
            sink.append_event(VENDOR, body["id"], body["type"], body["created"], body)
            return
        sink.upsert(VendorObject(VENDOR, kind, body["id"], created=body["created"],
                                 updated=body.get("updated", body["created"]), body=body,
                                 deleted=bool(body.get("deleted", False))))


def _load_internal(kind: str, body: dict[str, Any], sink: Sink) -> None:
    """Reload an idempotency key or a parked-invoice list exactly as it was exported."""
    if "id" not in body:
        raise ValueError(f"stripe {kind} fixture object lacks 'id'")
    created = body.get("created", 0)
    sink.upsert(VendorObject(VENDOR, kind, body["id"], created=created, updated=created,
                             body=body, deleted=body.get("records") == []))
