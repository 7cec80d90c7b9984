"""The Stripe vendor module: renderers, events, list semantics, auth, idempotency, the spec.

A small hand-written world covers every canonical billing kind (monthly and yearly prices, a
discounted subscription that is upgraded, a cancellation, a paid and a failed invoice and
charge). Every object a route serves is validated against the component schema of Stripe's
published OpenAPI spec for 2023-08-16, made strict (no field the spec does not list), so the
sandbox can neither miss a required field nor invent one.
"""

from __future__ import annotations

import base64
import copy
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import yaml
from openapi_schema_validator import OAS30Validator

from integrations.sandbox import domain
from integrations.sandbox.credentials import DEFAULT_SECRETS
from integrations.sandbox.routing import Request, Response
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.store import WorldReader, WorldWriter
from integrations.sandbox.vendors.stripe import Stripe
from integrations.sandbox.vendors.stripe_events import announce, created_or_updated, save
from tests.vendor_specs import VENDOR_SPECS

SPEC_DIR = VENDOR_SPECS / "stripe"
KEY = DEFAULT_SECRETS["stripe_api_key"]
AUTH = {"Authorization": f"Bearer {KEY}"}
DAY = 86_400.0
T0 = 1_690_000_000.25          # 2023-07-22: the world starts
T_UPGRADE = T0 + 40 * DAY
T_CANCEL_REQUEST = T0 + 50 * DAY
T_CANCELED = T0 + 60 * DAY

# -- the spec --------------------------------------------------------------------------------


def _strict(node: Any) -> Any:
    """The spec with `additionalProperties: false` on every object schema that lists fields.

    Stripe means `nullable` as "null is allowed too", but OAS 3.0.3 validators apply it
    only next to `type` and not to `enum`; so null joins such an `anyOf` or `enum`.
    """
    if isinstance(node, dict):
        strict = {key: _strict(value) for key, value in node.items()}
        if "properties" in strict and "additionalProperties" not in strict:
            strict["additionalProperties"] = False
        if strict.get("nullable") and "anyOf" in strict:
            strict["anyOf"] = [*strict["anyOf"], {"enum": [None]}]
        if strict.get("nullable") and None not in strict.get("enum", [None]):
            strict["enum"] = [*strict["enum"], None]
        return strict
    if isinstance(node, list):
        return [_strict(value) for value in node]
    return node


@pytest.fixture(scope="session")
def stripe_spec() -> dict[str, Any]:
    """Stripe's OpenAPI spec for 2023-08-16, parsed once (4 MB) and made strict."""
    with (SPEC_DIR / "spec3-2023-08-16.yaml").open() as handle:
        spec = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return _strict(spec)


class SpecCheck:
    """Validates bodies against a component schema or a path's 200 response schema."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self._validators: dict[str, OAS30Validator] = {}

    def _validator(self, ref: str) -> OAS30Validator:
        if ref not in self._validators:
            self._validators[ref] = OAS30Validator(
                {"$ref": ref, "components": self.spec["components"], "paths": self.spec["paths"]})
        return self._validators[ref]

    def component(self, name: str, body: Any) -> None:
        self._validator(f"#/components/schemas/{name}").validate(body)

    def list_response(self, path: str, body: Any) -> None:
        pointer = path.replace("~", "~0").replace("/", "~1")
        self._validator(f"#/paths/{pointer}/get/responses/200/content/"
                        f"application~1json/schema").validate(body)


@pytest.fixture(scope="session")
def spec_check(stripe_spec: dict[str, Any]) -> SpecCheck:
    return SpecCheck(stripe_spec)


# -- the world -------------------------------------------------------------------------------


def price(key: int, price_id: str, product_id: str, plan: str, amount: int,
          interval: str) -> dict[str, Any]:
    return {"key": key, "id": price_id, "product_id": product_id,
            "product_name": plan.title(), "plan": plan, "unit_amount": amount,
            "currency": "usd", "interval": interval, "interval_count": 1, "created_at": T0 - DAY}


PRICES = [price(1, "price_growth_m", "prod_growth", "growth", 5_000, "month"),
          price(2, "price_growth_y", "prod_growth", "growth", 50_000, "year"),
          price(3, "price_ent_m", "prod_ent", "enterprise", 9_000, "month")]
COUPON = {"key": 1, "id": "welcome25", "name": "25% off", "percent_off": 25.0,
          "amount_off": None, "currency": None, "duration": "repeating",
          "duration_in_months": 3, "created_at": T0 - DAY}


def account(key: int, name: str, customer_id: str, in_crm: bool, **changes: Any,
            ) -> dict[str, Any]:
    domain_name = f"{name.lower()}.example"
    record = {
        "key": key, "name": name, "domain": domain_name, "billing_domain": domain_name,
        "industry": "software", "employees": 200, "country": "US", "segment": "mid_market",
        "owner_key": 1, "onboarding_owner_key": 2, "lifecycle_stage": "customer",
        "customer_since": "2023-07-22", "created_at": T0, "updated_at": T0,
        "workspace_id": f"ws_{key}", "hubspot_company_id": f"90{key}",
        "salesforce_account_id": f"001SANDBOX00000{key:03d}", "stripe_customer_id": customer_id,
        "zendesk_organization_id": 700 + key, "stripe_id_in_crm": in_crm,
        "zendesk_external_id": None, "currency": "usd",
        "billing_email": f"billing@{domain_name}", "plan": "growth", "seats": 10,
        "renewal_date": None,
    }
    return {**record, **changes}


def subscription(sub_id: str, customer_id: str, item_price: str, quantity: int, *,
                 period: float, **changes: Any) -> dict[str, Any]:
    record = {
        "key": 1, "id": sub_id, "account_key": 1, "customer_id": customer_id,
        "status": "active", "created_at": T0, "updated_at": T0, "start_date": T0,
        "billing_cycle_anchor": T0, "current_period_start": T0,
        "current_period_end": T0 + period, "cancel_at_period_end": False,
        "canceled_at": None, "ended_at": None,
        "items": [{"id": f"si_{sub_id}", "price_id": item_price, "quantity": quantity,
                   "created_at": T0}],
        "discount": None, "currency": "usd", "collection_method": "charge_automatically",
        "days_until_due": None, "latest_invoice_id": None,
    }
    return {**record, **changes}


def invoice(invoice_id: str, customer_id: str, sub_id: str, lines: list[dict[str, Any]], *,
            discount: int = 0, **changes: Any) -> dict[str, Any]:
    subtotal = sum(line["amount"] for line in lines)
    record = {
        "key": 1, "id": invoice_id, "number": f"INV-{invoice_id[-4:]}", "account_key": 1,
        "customer_id": customer_id, "subscription_id": sub_id, "status": "draft",
        "billing_reason": "subscription_create", "created_at": T0, "updated_at": T0,
        "period_start": T0, "period_end": T0, "due_date": None, "subtotal": subtotal,
        "total_discount": discount, "tax": 0, "total": subtotal - discount,
        "amount_due": subtotal - discount, "amount_paid": 0,
        "amount_remaining": subtotal - discount, "attempt_count": 0,
        "next_payment_attempt": None, "paid_at": None, "currency": "usd", "charge_id": None,
        "lines": lines,
    }
    return {**record, **changes}


def line(line_id: str, price_id: str, quantity: int, unit: int, *, discount: int = 0,
         proration: bool = False) -> dict[str, Any]:
    return {"id": line_id, "price_id": price_id, "quantity": quantity,
            "amount": quantity * unit, "discount_amount": discount, "period_start": T0,
            "period_end": T0 + 30 * DAY, "proration": proration,
            "description": f"{quantity} × seat"}


def charge(charge_id: str, customer_id: str, invoice_id: str, amount: int, status: str,
           failure: str | None = None, at: float = T0) -> dict[str, Any]:
    return {"key": 1, "id": charge_id, "account_key": 1, "customer_id": customer_id,
            "invoice_id": invoice_id, "amount": amount, "currency": "usd", "status": status,
            "failure_code": failure,
            "failure_message": "Your card has insufficient funds." if failure else None,
            "created_at": at}


ACME_DISCOUNT = {"id": "di_acme", "coupon_id": "welcome25", "start": T0, "end": T0 + 90 * DAY}
ACME_SUB = subscription("sub_acme", "cus_acme", "price_growth_m", 10, period=30 * DAY,
                        discount=ACME_DISCOUNT, latest_invoice_id="in_acme_1")
ACME_UPGRADED = {**ACME_SUB, "updated_at": T_UPGRADE,
                 "items": [{**ACME_SUB["items"][0], "price_id": "price_ent_m", "quantity": 12}]}
GLOBEX_SUB = subscription("sub_globex", "cus_globex", "price_growth_y", 5, period=365 * DAY,
                          latest_invoice_id="in_globex_1")
GLOBEX_CANCEL_REQUESTED = {**GLOBEX_SUB, "updated_at": T_CANCEL_REQUEST,
                           "cancel_at_period_end": True}
GLOBEX_CANCELED = {**GLOBEX_CANCEL_REQUESTED, "updated_at": T_CANCELED, "status": "canceled",
                   "canceled_at": T_CANCELED, "ended_at": T_CANCELED}
ACME_INVOICE = invoice("in_acme_1", "cus_acme", "sub_acme",
                       [line("il_acme_1", "price_growth_m", 10, 5_000, discount=12_500)],
                       discount=12_500)
ACME_PAID = {**ACME_INVOICE, "status": "paid", "updated_at": T0 + 3600, "amount_paid": 37_500,
             "amount_remaining": 0, "attempt_count": 1, "paid_at": T0 + 3600,
             "charge_id": "ch_acme_1"}
PRORATIONS = [line(f"il_pro_{n:02d}", "price_ent_m", 1, 300, proration=True)
              for n in range(12)]
ACME_PRORATION_INVOICE = invoice("in_acme_2", "cus_acme", "sub_acme", PRORATIONS,
                                 billing_reason="subscription_update", created_at=T_UPGRADE,
                                 updated_at=T_UPGRADE)
GLOBEX_INVOICE = invoice("in_globex_1", "cus_globex", "sub_globex",
                         [line("il_globex_1", "price_growth_y", 5, 50_000)])
GLOBEX_OPEN = {**GLOBEX_INVOICE, "status": "open", "updated_at": T0 + 60}
GLOBEX_FAILED = {**GLOBEX_OPEN, "updated_at": T0 + 3600, "attempt_count": 1,
                 "next_payment_attempt": T0 + 3 * DAY}


def csm(key: int, first_name: str, team: str) -> dict[str, Any]:
    """A CSM; the other vendors' renderers need an account's owners put before it."""
    return {"key": key, "first_name": first_name, "last_name": "Smith",
            "email": f"{first_name.lower()}@sandbox.example", "team": team,
            "created_at": T0 - 10 * DAY, "hubspot_owner_id": f"5255015{key}",
            "salesforce_user_id": f"005SANDBOX0000{key:04d}", "slack_user_id": f"U0SANDBOX{key}",
            "zendesk_agent_id": 9000 + key}


def build_world(path: Path) -> Path:
    """Write the hand-written world, change by change, as the generator would."""
    writer = WorldWriter(path)
    writer.put(domain.CSM, csm(1, "Dana", "mid_market"))
    writer.put(domain.CSM, csm(2, "Oli", "onboarding"))
    for record in PRICES:
        writer.put(domain.PRICE, record)
    writer.put(domain.COUPON, COUPON)
    writer.put(domain.ACCOUNT, account(1, "Acme", "cus_acme", in_crm=True))
    writer.put(domain.ACCOUNT, account(2, "Globex", "cus_globex", in_crm=False))
    writer.commit_day()
    for kind, record in [
        (domain.SUBSCRIPTION, ACME_SUB), (domain.INVOICE, ACME_INVOICE),
        (domain.SUBSCRIPTION, GLOBEX_SUB), (domain.INVOICE, GLOBEX_INVOICE),
        (domain.INVOICE, GLOBEX_OPEN),
        (domain.CHARGE, charge("ch_acme_1", "cus_acme", "in_acme_1", 37_500, "succeeded")),
        (domain.INVOICE, ACME_PAID),
        (domain.CHARGE, charge("ch_globex_1", "cus_globex", "in_globex_1", 250_000, "failed",
                               "insufficient_funds", at=T0 + 3600)),
        (domain.INVOICE, GLOBEX_FAILED),
        (domain.SUBSCRIPTION, ACME_UPGRADED), (domain.INVOICE, ACME_PRORATION_INVOICE),
        (domain.SUBSCRIPTION, GLOBEX_CANCEL_REQUESTED), (domain.SUBSCRIPTION, GLOBEX_CANCELED),
    ]:
        writer.put(kind, record)
    writer.close()
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> WorldReader:
    """The shared read-only world (tests that write build their own)."""
    return WorldReader(build_world(tmp_path_factory.mktemp("stripe") / "world.sqlite"))


@pytest.fixture
def fresh_world(tmp_path: Path) -> WorldReader:
    return WorldReader(build_world(tmp_path / "world.sqlite"))


# -- calling routes without a server ---------------------------------------------------------


def call(world: WorldReader, method: str, url: str, *, headers: dict[str, str] | None = None,
         body: bytes = b"") -> Response:
    """One request through auth and the matching route, as the server core does it."""
    parts = urlsplit(url)
    message = Message()
    for name, value in (AUTH if headers is None else headers).items():
        message[name] = value
    request = Request(method, parts.path, parse_qs(parts.query, keep_blank_values=True),
                      message, body, world, "http://127.0.0.1:0/stripe")
    vendor = Stripe(DEFAULT_SECRETS)
    denied = vendor.authenticate(request)
    if denied is not None:
        return denied
    for route in vendor.routes():
        params = route.match(method, parts.path)
        if params is not None:
            request.params = params
            return route.handler(request)
    return vendor.error(404, f"no route for {method} {parts.path}", "not_found")


def get(world: WorldReader, url: str, **params: Any) -> dict[str, Any]:
    response = call(world, "GET", f"{url}?{urlencode(params, doseq=True)}" if params else url)
    assert response.status == 200, response.body
    return response.body


def walk(world: WorldReader, url: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every object of a list, page by page with `starting_after`."""
    seen: list[dict[str, Any]] = []
    page = get(world, url, limit=limit, **params)
    while True:
        seen += page["data"]
        if not page["has_more"]:
            return seen
        page = get(world, url, limit=limit, starting_after=page["data"][-1]["id"], **params)


def events(world: WorldReader, **params: Any) -> list[dict[str, Any]]:
    return walk(world, "/v1/events", 100, **params)


COMPONENT_OF = {"customers": "customer", "subscriptions": "subscription",
                "invoices": "invoice", "charges": "charge", "prices": "price",
                "products": "product", "coupons": "coupon", "events": "event"}

# -- spec validation -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(COMPONENT_OF))
def test_every_list_and_object_validates_against_the_spec(
        world: WorldReader, spec_check: SpecCheck, kind: str) -> None:
    listing = get(world, f"/v1/{kind}", limit=100, **(
        {"status": "all"} if kind == "subscriptions" else {}))
    spec_check.list_response(f"/v1/{kind}", listing)
    assert listing["data"], f"the world has no {kind}"
    for body in listing["data"]:
        spec_check.component(COMPONENT_OF[kind], body)
        assert get(world, f"/v1/{kind}/{body['id']}") == body


def test_event_payloads_validate_as_the_objects_they_carry(
        world: WorldReader, spec_check: SpecCheck) -> None:
    found = events(world)
    assert {event["data"]["object"]["object"] for event in found} == {
        "customer", "subscription", "invoice", "charge", "price", "product", "coupon"}
    for event in found:
        spec_check.component(event["data"]["object"]["object"], event["data"]["object"])
        assert event["api_version"] == "2023-08-16"
        assert event["id"].startswith("evt_")


def test_invoice_lines_route_validates_and_pages(world: WorldReader,
                                                 spec_check: SpecCheck) -> None:
    embedded = get(world, "/v1/invoices/in_acme_2")["lines"]
    assert len(embedded["data"]) == 10 and embedded["has_more"] is True
    first = get(world, "/v1/invoices/in_acme_2/lines", limit=5)
    spec_check.list_response("/v1/invoices/{invoice}/lines", first)
    lines = walk(world, "/v1/invoices/in_acme_2/lines", 5)
    assert [entry["id"] for entry in lines] == [entry["id"] for entry in PRORATIONS]
    assert all(entry["type"] == "invoiceitem" and entry["proration"] for entry in lines)


def test_the_spec_check_catches_a_missing_and_an_invented_field(
        world: WorldReader, spec_check: SpecCheck) -> None:
    from jsonschema.exceptions import ValidationError

    customer = get(world, "/v1/customers/cus_acme")
    with pytest.raises(ValidationError):
        spec_check.component("customer", {k: v for k, v in customer.items() if k != "created"})
    with pytest.raises(ValidationError):
        spec_check.component("customer", {**customer, "domain": "acme.example"})


def test_a_generated_world_serves_only_spec_valid_stripe_objects(
        small_world: Path, spec_check: SpecCheck) -> None:
    """What the simulation emits renders into valid objects and a consistent change feed."""
    world = WorldReader(small_world)
    for kind, component in COMPONENT_OF.items():
        if kind == "events":
            continue
        served = walk(world, f"/v1/{kind}", 100,
                      **({"status": "all"} if kind == "subscriptions" else {}))
        assert served, f"the generated world has no {kind}"
        for body in served:
            spec_check.component(component, body)
    one_per_type: dict[str, dict[str, Any]] = {}
    for event in events(world):
        one_per_type.setdefault(event["type"], event)
        assert ("previous_attributes" in event["data"]) == event["type"].endswith(".updated")
        assert event["data"].get("previous_attributes") != {}
    assert {"customer.subscription.created", "invoice.paid", "charge.failed"} <= set(
        one_per_type)
    for event in one_per_type.values():
        spec_check.component("event", event)
        spec_check.component(event["data"]["object"]["object"], event["data"]["object"])


# -- renderers and events --------------------------------------------------------------------


def test_customer_metadata_carries_crm_ids_only_when_the_crm_has_the_stripe_id(
        world: WorldReader) -> None:
    acme, globex = (get(world, f"/v1/customers/{cid}") for cid in ("cus_acme", "cus_globex"))
    assert acme["metadata"] == {"workspace_id": "ws_1", "hubspot_company_id": "901",
                                "salesforce_account_id": "001SANDBOX00000001"}
    assert globex["metadata"] == {"workspace_id": "ws_2"}
    assert globex["email"] == "billing@globex.example"


def test_prices_share_a_product_and_embed_in_items(world: WorldReader) -> None:
    growth = get(world, "/v1/products/prod_growth")
    assert growth["default_price"] == "price_growth_m"
    yearly = get(world, "/v1/prices", product="prod_growth", **{"recurring[interval]": "year"})
    assert [p["id"] for p in yearly["data"]] == ["price_growth_y"]
    sub = get(world, "/v1/subscriptions/sub_globex")
    assert sub["items"]["data"][0]["price"] == get(world, "/v1/prices/price_growth_y")


def test_plan_change_event_shows_the_old_price(world: WorldReader) -> None:
    updates = events(world, type="customer.subscription.updated")
    upgrade = next(e for e in updates if e["data"]["object"]["id"] == "sub_acme")
    assert upgrade["created"] == int(T_UPGRADE)
    old_item = upgrade["data"]["previous_attributes"]["items"]["data"][0]
    assert (old_item["price"]["id"], old_item["quantity"]) == ("price_growth_m", 10)
    assert set(upgrade["data"]["previous_attributes"]) == {"items"}
    new_item = upgrade["data"]["object"]["items"]["data"][0]
    assert (new_item["id"], new_item["price"]["id"], new_item["quantity"]) == (
        "si_sub_acme", "price_ent_m", 12)


def test_discounted_subscription_and_invoice_name_the_discount(world: WorldReader) -> None:
    sub = get(world, "/v1/subscriptions/sub_acme")
    assert sub["discount"]["id"] == "di_acme"
    assert sub["discount"]["coupon"]["percent_off"] == 25.0
    assert get(world, "/v1/coupons/welcome25")["times_redeemed"] == 1
    paid = get(world, "/v1/invoices/in_acme_1")
    assert paid["discounts"] == ["di_acme"]
    assert paid["total_discount_amounts"] == [{"amount": 12_500, "discount": "di_acme"}]
    assert paid["lines"]["data"][0]["discount_amounts"] == [{"amount": 12_500,
                                                             "discount": "di_acme"}]
    assert paid["lines"]["data"][0]["subscription_item"] == "si_sub_acme"


def test_cancellation_sends_updated_then_deleted(world: WorldReader) -> None:
    found = [e for e in reversed(events(world)) if e["data"]["object"]["id"] == "sub_globex"]
    assert [e["type"] for e in found] == ["customer.subscription.created",
                                          "customer.subscription.updated",
                                          "customer.subscription.deleted"]
    requested, deleted = found[1], found[2]
    assert requested["data"]["previous_attributes"] == {
        "cancel_at": None, "cancel_at_period_end": False,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None}}
    assert "previous_attributes" not in deleted["data"]
    assert deleted["data"]["object"]["status"] == "canceled"
    assert deleted["data"]["object"]["cancellation_details"]["reason"] == (
        "cancellation_requested")


def test_invoice_lifecycle_events_and_delinquency(world: WorldReader) -> None:
    def types_of(object_id: str) -> list[str]:
        return [e["type"] for e in reversed(events(world))
                if e["data"]["object"]["id"] == object_id]

    assert types_of("in_acme_1") == ["invoice.created", "invoice.updated", "invoice.finalized",
                                     "invoice.paid", "invoice.payment_succeeded"]
    assert types_of("in_globex_1") == ["invoice.created", "invoice.updated",
                                       "invoice.finalized", "invoice.updated",
                                       "invoice.payment_failed"]
    assert types_of("ch_globex_1") == ["charge.failed"]
    assert get(world, "/v1/customers/cus_globex")["delinquent"] is True
    assert get(world, "/v1/customers/cus_acme")["delinquent"] is False
    flagged = [e for e in events(world, type="customer.updated")
               if e["data"]["object"]["id"] == "cus_globex"]
    assert [e["data"]["previous_attributes"] for e in flagged] == [{"delinquent": False}]


def test_failed_charge_carries_the_decline(world: WorldReader) -> None:
    failed = get(world, "/v1/charges/ch_globex_1")
    assert (failed["status"], failed["paid"], failed["failure_code"]) == (
        "failed", False, "card_declined")
    assert failed["failure_message"] == "Your card has insufficient funds."
    assert failed["outcome"]["reason"] == "insufficient_funds"
    assert failed["outcome"]["type"] == "issuer_declined"
    succeeded = get(world, "/v1/charges/ch_acme_1")
    assert succeeded["outcome"]["type"] == "authorized" and succeeded["failure_code"] is None


def test_unchanged_records_store_nothing_and_event_ids_are_reproducible(
        tmp_path: Path) -> None:
    first, second = (WorldReader(build_world(tmp_path / f"{n}.sqlite")) for n in (1, 2))
    ids = [e["id"] for e in events(first)]
    assert ids == [e["id"] for e in events(second)]
    assert len(ids) == len(set(ids))
    writer = WorldWriter(tmp_path / "1.sqlite")
    writer.put(domain.SUBSCRIPTION, GLOBEX_CANCELED)
    writer.put(domain.ACCOUNT, account(1, "Acme", "cus_acme", True, updated_at=T_CANCELED,
                                       industry="fintech"))
    writer.close()
    assert [e["id"] for e in events(first)] == ids


def test_one_object_changed_twice_in_a_second_to_the_same_content_gets_two_event_ids(
        tmp_path: Path) -> None:
    """Event ids once derived from (object, second, type, content): flipping a customer's
    email a -> b -> a -> b within one second announced `b` twice under one id."""
    def flip(path: Path) -> list[str]:
        writer = WorldWriter(path)
        customer = {"id": "cus_flip", "object": "customer", "created": int(T0)}
        for email in ("a@flip.example", "b@flip.example", "a@flip.example", "b@flip.example"):
            change = save(writer.sink, "customers", {**customer, "email": email}, updated=T0)
            assert change is not None
            announce(writer.sink, change, created_or_updated(change, "customer"), T0)
        writer.close()
        return [event["id"] for event in WorldReader(path).iter_events("stripe")]

    ids = flip(tmp_path / "1.sqlite")
    assert len(ids) == len(set(ids)) == 4
    assert flip(tmp_path / "2.sqlite") == ids


def test_an_invoice_cannot_lose_the_discount_it_shows(tmp_path: Path) -> None:
    writer = WorldWriter(tmp_path / "world.sqlite")
    for record in PRICES:
        writer.put(domain.PRICE, record)
    writer.put(domain.SUBSCRIPTION, GLOBEX_SUB)
    with pytest.raises(ValueError, match="has a discount but its subscription has none"):
        writer.put(domain.INVOICE, {**GLOBEX_INVOICE, "total_discount": 100})
    with pytest.raises(ValueError, match="price_missing"):
        writer.put(domain.SUBSCRIPTION, {**GLOBEX_SUB, "items": [
            {**GLOBEX_SUB["items"][0], "price_id": "price_missing"}]})
    writer.close()


def test_an_invoice_put_before_its_subscription_waits_for_it(tmp_path: Path) -> None:
    """The generator opens a subscription's first invoice, then emits the subscription."""
    writer = WorldWriter(tmp_path / "world.sqlite")
    writer.put(domain.CSM, csm(1, "Dana", "mid_market"))
    writer.put(domain.CSM, csm(2, "Oli", "onboarding"))
    for record in PRICES:
        writer.put(domain.PRICE, record)
    writer.put(domain.COUPON, COUPON)
    writer.put(domain.ACCOUNT, account(1, "Acme", "cus_acme", in_crm=True))
    new_invoice = invoice("in_new", "cus_acme", "sub_new",
                          [line("il_new", "price_growth_m", 4, 5_000, discount=5_000)],
                          discount=5_000, status="open")
    writer.put(domain.INVOICE, new_invoice)
    writer.put(domain.SUBSCRIPTION, subscription(
        "sub_new", "cus_acme", "price_growth_m", 4, period=30 * DAY, latest_invoice_id="in_new",
        discount={**ACME_DISCOUNT, "id": "di_new"}))
    writer.close()
    world = WorldReader(tmp_path / "world.sqlite")
    order = [e["type"] for e in reversed(events(world))
             if e["data"]["object"]["id"] in ("sub_new", "in_new")]
    assert order == ["customer.subscription.created", "invoice.created", "invoice.finalized"]
    served = get(world, "/v1/invoices/in_new")
    assert served["discounts"] == ["di_new"]
    assert served["lines"]["data"][0]["subscription_item"] == "si_sub_new"


def test_an_exported_world_reloads_identically(fresh_world: WorldReader, tmp_path: Path) -> None:
    from integrations.sandbox.fixtures import export_world, load_fixture_dir

    post(fresh_world, "/v1/customers/cus_acme", {"metadata[zendesk]": "701"}, "export-1")
    writer = WorldWriter(fresh_world.path)
    writer.put(domain.INVOICE, invoice("in_orphan", "cus_acme", "sub_never_put", []))
    writer.close()
    written = export_world(fresh_world.path, tmp_path / "export")
    assert {"stripe/idempotency_keys.json", "stripe/parked_invoices.json"} <= set(written)
    stripe_only = tmp_path / "stripe-only"      # the other vendors' exports are their tests'
    stripe_only.mkdir()
    (tmp_path / "export" / "stripe").rename(stripe_only / "stripe")
    load_fixture_dir(stripe_only, tmp_path / "replay.sqlite")
    replay = WorldReader(tmp_path / "replay.sqlite")
    for kind in [*COMPONENT_OF, "idempotency_keys", "parked_invoices"]:
        if kind != "events":
            assert list(replay.iter_objects("stripe", kind)) == list(
                fresh_world.iter_objects("stripe", kind)), kind
    assert events(replay) == events(fresh_world)


# -- list semantics --------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3, 100])
def test_starting_after_walks_every_object_once_newest_first(world: WorldReader,
                                                             limit: int) -> None:
    walked = walk(world, "/v1/events", limit)
    everything = get(world, "/v1/events", limit=100)
    assert walked == everything["data"] and everything["has_more"] is False
    created = [e["created"] for e in walked]
    assert created == sorted(created, reverse=True)
    invoices = walk(world, "/v1/invoices", limit)
    assert sorted(i["id"] for i in invoices) == ["in_acme_1", "in_acme_2", "in_globex_1"]
    keys = [(i["created"], i["id"]) for i in invoices]
    assert keys == sorted(keys, reverse=True)


def test_ending_before_pages_back_towards_the_newest(world: WorldReader) -> None:
    newest_first = get(world, "/v1/events", limit=100)["data"]
    page = get(world, "/v1/events", limit=3, ending_before=newest_first[5]["id"])
    assert page["data"] == newest_first[2:5] and page["has_more"] is True
    top = get(world, "/v1/events", limit=3, ending_before=newest_first[2]["id"])
    assert top["data"] == newest_first[:2] and top["has_more"] is False


def test_created_filters(world: WorldReader) -> None:
    def ids(**params: Any) -> set[str]:
        return {s["id"] for s in get(world, "/v1/subscriptions", status="all", **params)["data"]}

    start = int(T0)
    assert ids(**{"created[gte]": start}) == {"sub_acme", "sub_globex"}
    assert ids(**{"created[gt]": start}) == set()
    assert ids(**{"created[lte]": start}) == {"sub_acme", "sub_globex"}
    assert ids(**{"created[lt]": start}) == set()
    assert ids(created=start) == {"sub_acme", "sub_globex"}
    recent = get(world, "/v1/events", limit=100, **{"created[gte]": int(T_UPGRADE)})["data"]
    assert recent and all(e["created"] >= int(T_UPGRADE) for e in recent)
    assert {e["type"] for e in recent} >= {"customer.subscription.deleted"}
    assert get(world, "/v1/events", **{"created[gt]": int(T_CANCELED)})["data"] == []


def test_subscription_status_filter(world: WorldReader) -> None:
    def ids(**params: Any) -> list[str]:
        return [s["id"] for s in get(world, "/v1/subscriptions", **params)["data"]]

    assert ids() == ["sub_acme"]
    assert sorted(ids(status="all")) == ["sub_acme", "sub_globex"]
    assert ids(status="canceled") == ids(status="ended") == ["sub_globex"]
    assert ids(status="active", customer="cus_acme") == ["sub_acme"]
    assert ids(status="past_due") == []
    assert ids(price="price_ent_m") == ["sub_acme"]
    bad = call(world, "GET", "/v1/subscriptions?status=sleeping")
    assert bad.status == 400 and bad.body["error"]["param"] == "status"


def test_invoice_filters(world: WorldReader) -> None:
    def ids(**params: Any) -> list[str]:
        return [i["id"] for i in get(world, "/v1/invoices", **params)["data"]]

    assert ids(customer="cus_globex") == ["in_globex_1"]
    assert ids(status="paid") == ["in_acme_1"]
    assert sorted(ids(subscription="sub_acme")) == ["in_acme_1", "in_acme_2"]
    assert ids(customer="cus_acme", status="open") == []


def test_event_type_filters(world: WorldReader) -> None:
    def types(**params: Any) -> set[str]:
        return {e["type"] for e in events(world, **params)}

    assert types(type="charge.*") == {"charge.succeeded", "charge.failed"}
    assert types(type="invoice.paid") == {"invoice.paid"}
    assert types(**{"types[]": ["price.created", "coupon.created"]}) == {
        "price.created", "coupon.created"}
    assert types(**{"types[0]": "product.created"}, delivery_success="true") == {
        "product.created"}
    both = call(world, "GET", "/v1/events?type=a&types[]=b")
    assert both.status == 400


def test_expand_replaces_ids_by_objects(world: WorldReader) -> None:
    subs = get(world, "/v1/subscriptions", **{"expand[]": ["data.customer",
                                                            "data.latest_invoice"]})
    assert subs["data"][0]["customer"]["object"] == "customer"
    assert subs["data"][0]["latest_invoice"]["id"] == "in_acme_1"
    charge_body = get(world, "/v1/charges/ch_acme_1", **{"expand[0]": "invoice.subscription"})
    assert charge_body["invoice"]["subscription"]["id"] == "sub_acme"
    assert get(world, "/v1/charges/ch_acme_1")["invoice"] == "in_acme_1"


@pytest.mark.parametrize(("raw", "message"), [
    ("0", "greater than or equal to 1"), ("101", "less than or equal to 100"),
    ("ten", "Invalid integer: ten")])
def test_bad_limit_is_stripes_400(world: WorldReader, raw: str, message: str) -> None:
    response = call(world, "GET", f"/v1/customers?limit={raw}")
    assert response.status == 400
    error = response.body["error"]
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error", "parameter_invalid_integer", "limit")
    assert message in error["message"]


def test_unknown_cursor_parameter_and_object(world: WorldReader) -> None:
    cursor = call(world, "GET", "/v1/customers?starting_after=cus_nobody")
    assert cursor.status == 400
    assert cursor.body["error"]["code"] == "resource_missing"
    assert cursor.body["error"]["param"] == "starting_after"
    assert cursor.body["error"]["message"] == "No such customer: 'cus_nobody'"
    unknown = call(world, "GET", "/v1/customers?colour=red")
    assert unknown.status == 400 and unknown.body["error"]["code"] == "parameter_unknown"
    missing = call(world, "GET", "/v1/invoices/in_nothing")
    assert missing.status == 404 and missing.body["error"]["param"] == "id"
    route = call(world, "GET", "/v1/balance")
    assert route.status == 404 and "code" not in route.body["error"]
    assert route.body["error"]["message"].startswith("Unrecognized request URL (GET: /v1/balance)")


# -- auth, versions, errors ------------------------------------------------------------------


def test_401_bodies_never_echo_the_key(world: WorldReader) -> None:
    missing = call(world, "GET", "/v1/customers", headers={})
    assert missing.status == 401
    assert missing.body["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in missing.body["error"]["message"]
    wrong_key = "sk_test_guessed_secret_1234"
    wrong = call(world, "GET", "/v1/customers",
                 headers={"Authorization": f"Bearer {wrong_key}"})
    assert wrong.status == 401
    assert wrong.body == {"error": {"message": "Invalid API Key provided: sk_test_" + "*" * 24,
                                    "type": "invalid_request_error"}}
    assert "guessed" not in json.dumps(wrong.body) and "1234" not in json.dumps(wrong.body)
    assert wrong.headers["Request-Id"].startswith("req_")
    basic = base64.b64encode(f"{KEY}:".encode()).decode()
    assert call(world, "GET", "/v1/customers",
                headers={"Authorization": f"Basic {basic}"}).status == 200


def test_only_api_version_2023_08_16_is_served(world: WorldReader) -> None:
    old = call(world, "GET", "/v1/customers",
               headers={**AUTH, "Stripe-Version": "2020-08-27"})
    assert old.status == 400
    assert "serves Stripe API version 2023-08-16 only" in old.body["error"]["message"]
    pinned = call(world, "GET", "/v1/customers", headers={**AUTH, "Stripe-Version": "2023-08-16"})
    assert pinned.status == 200
    assert pinned.headers["Stripe-Version"] == "2023-08-16"
    assert pinned.headers["Request-Id"].startswith("req_")


def test_error_rate_limit_and_records_shapes(world: WorldReader) -> None:
    vendor = Stripe(DEFAULT_SECRETS)
    server_error = vendor.error(503, "injected server error", "server_error")
    assert server_error.body == {"error": {"message": "injected server error",
                                           "type": "api_error"}}
    limited = vendor.rate_limited(1.0, vendor.default_rate_limit)
    assert limited.status == 429
    assert limited.body["error"]["code"] == "rate_limit"
    assert limited.body["error"]["message"].startswith("Request rate limit exceeded.")
    listing = get(world, "/v1/events", limit=2)
    assert vendor.records(listing) == listing["data"]
    customer = get(world, "/v1/customers/cus_acme")
    assert vendor.records(customer) == [customer]
    assert vendor.records(server_error.body) == []


# -- writes ----------------------------------------------------------------------------------


def post(world: WorldReader, url: str, form: dict[str, str], key: str | None) -> Response:
    headers = {**AUTH, "Content-Type": "application/x-www-form-urlencoded"}
    if key:
        headers["Idempotency-Key"] = key
    return call(world, "POST", url, headers=headers, body=urlencode(form).encode())


def test_metadata_update_is_idempotent_and_announced(fresh_world: WorldReader) -> None:
    form = {"metadata[hubspot_company_id]": "902"}
    first = post(fresh_world, "/v1/customers/cus_globex", form, "write-1")
    assert first.status == 200
    assert first.body["metadata"] == {"workspace_id": "ws_2", "hubspot_company_id": "902"}
    assert "Idempotent-Replayed" not in first.headers
    again = post(fresh_world, "/v1/customers/cus_globex", form, "write-1")
    assert (again.status, again.body) == (200, first.body)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Original-Request"] == first.headers["Request-Id"]
    updates = [e for e in events(fresh_world, type="customer.updated")
               if e["request"]["idempotency_key"] == "write-1"]
    assert len(updates) == 1
    assert updates[0]["data"]["previous_attributes"] == {"metadata": {"workspace_id": "ws_2"}}
    assert updates[0]["request"]["id"] == first.headers["Request-Id"]
    different = post(fresh_world, "/v1/customers/cus_globex",
                     {"metadata[hubspot_company_id]": "903"}, "write-1")
    assert different.status == 400
    assert different.body["error"]["type"] == "idempotency_error"
    assert get(fresh_world, "/v1/customers/cus_globex")["metadata"]["hubspot_company_id"] == (
        "902")


def test_metadata_survives_the_next_account_change(fresh_world: WorldReader) -> None:
    post(fresh_world, "/v1/customers/cus_acme", {"metadata[zendesk]": "701"}, None)
    writer = WorldWriter(fresh_world.path)
    writer.put(domain.ACCOUNT, account(1, "Acme Corp", "cus_acme", True, updated_at=T_CANCELED))
    writer.close()
    customer = get(fresh_world, "/v1/customers/cus_acme")
    assert customer["name"] == "Acme Corp" and customer["metadata"]["zendesk"] == "701"


def test_write_errors(fresh_world: WorldReader) -> None:
    unknown = post(fresh_world, "/v1/customers/cus_acme", {"colour": "red"}, "k1")
    assert unknown.status == 400 and unknown.body["error"]["param"] == "colour"
    missing = post(fresh_world, "/v1/customers/cus_nobody", {"metadata[a]": "b"}, "k2")
    assert missing.status == 404 and missing.body["error"]["code"] == "resource_missing"
    replayed = post(fresh_world, "/v1/customers/cus_nobody", {"metadata[a]": "b"}, "k2")
    assert replayed.status == 404 and replayed.headers["Idempotent-Replayed"] == "true"
    cleared = post(fresh_world, "/v1/customers/cus_acme", {"metadata": ""}, None)
    assert cleared.body["metadata"] == {}


# -- fixtures --------------------------------------------------------------------------------


def test_published_fixture_objects_load_and_serve(tmp_path: Path,
                                                  spec_check: SpecCheck) -> None:
    resources = json.loads((SPEC_DIR / "fixtures3-2023-08-16.json").read_text())["resources"]
    writer = WorldWriter(tmp_path / "world.sqlite")
    vendor = Stripe({})
    for kind, noun in [("customers", "customer"), ("subscriptions", "subscription"),
                       ("invoices", "invoice"), ("charges", "charge"), ("prices", "price"),
                       ("products", "product"), ("coupons", "coupon"), ("events", "event")]:
        vendor.load_fixture(kind, copy.deepcopy(resources[noun]), writer.sink)
    with pytest.raises(ValueError, match="not a 'customer'"):
        vendor.load_fixture("customers", resources["price"], writer.sink)
    with pytest.raises(ValueError, match="no kind 'refunds'"):
        vendor.load_fixture("refunds", resources["refund"], writer.sink)
    writer.close()
    served = WorldReader(tmp_path / "world.sqlite")
    customers = get(served, "/v1/customers")
    assert [c["id"] for c in customers["data"]] == [resources["customer"]["id"]]
    assert get(served, f"/v1/events/{resources['event']['id']}")["type"] == "plan.created"
    spec_check.list_response("/v1/customers", customers)


# -- over real HTTP --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(world: WorldReader) -> Iterator[SandboxServer]:
    with SandboxServer(world.path) as running:
        yield running


def test_over_http_a_connector_pages_events_with_requests(server: SandboxServer) -> None:
    session = requests.Session()
    session.headers.update({**AUTH, "Stripe-Version": "2023-08-16"})
    url, params, seen = server.url("stripe") + "/v1/events", {"limit": 7}, []
    while True:
        response = session.get(url, params=params, timeout=10)
        assert response.status_code == 200
        assert response.headers["Request-Id"].startswith("req_")
        page = response.json()
        seen += page["data"]
        if not page["has_more"]:
            break
        params = {"limit": 7, "starting_after": page["data"][-1]["id"]}
    assert len(seen) == len({e["id"] for e in seen}) > 7
    unauthorized = requests.get(url, auth=("sk_test_wrong", ""), timeout=10)
    assert unauthorized.status_code == 401 and "wrong" not in unauthorized.text


def test_over_http_injected_faults_speak_stripe(server: SandboxServer) -> None:
    from integrations.sandbox.faults import Fault

    url = server.url("stripe") + "/v1/customers"
    server.faults.add(Fault(vendor="stripe", kind="http_error", route="customers.list",
                            count=1, status=502))
    server.faults.add(Fault(vendor="stripe", kind="drift_rename", route="customers.retrieve",
                            count=1, field="email", to="email_address"))
    failed = requests.get(url, headers=AUTH, timeout=10)
    assert failed.status_code == 502 and failed.json()["error"]["type"] == "api_error"
    drifted = requests.get(url + "/cus_acme", headers=AUTH, timeout=10).json()
    assert "email" not in drifted and drifted["email_address"] == "billing@acme.example"
    assert server.request_counts("stripe")["stripe customers.list"] >= 1


def test_over_http_a_write_dropped_after_commit_is_replayed_not_repeated(
        fresh_world: WorldReader) -> None:
    from integrations.sandbox.faults import Fault

    with SandboxServer(fresh_world.path) as running:
        running.faults.add(Fault(vendor="stripe", kind="drop", route="customers.update",
                                 count=1))
        url = running.url("stripe") + "/v1/customers/cus_globex"
        headers = {**AUTH, "Idempotency-Key": "crm-sync-globex"}
        form = {"metadata[hubspot_company_id]": "902"}
        with pytest.raises(requests.ConnectionError):
            requests.post(url, data=form, headers=headers, timeout=10)
        retried = requests.post(url, data=form, headers=headers, timeout=10)
    assert retried.status_code == 200
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.json()["metadata"]["hubspot_company_id"] == "902"
    announced = [e for e in events(fresh_world, type="customer.updated")
                 if e["request"]["idempotency_key"] == "crm-sync-globex"]
    assert len(announced) == 1


def test_over_http_the_rate_limit_answers_stripes_429(world: WorldReader) -> None:
    from integrations.sandbox.routing import RateLimit

    with SandboxServer(world.path, rate_limits={"stripe": RateLimit(2, 60.0)}) as running:
        url = running.url("stripe") + "/v1/coupons"
        statuses = [requests.get(url, headers=AUTH, timeout=10) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].json() == {"error": {
        "message": "Request rate limit exceeded. You can learn more about rate limits here "
                   "https://stripe.com/docs/rate-limits.",
        "type": "invalid_request_error", "code": "rate_limit",
        "doc_url": "https://stripe.com/docs/error-codes/rate-limit"}}
    assert statuses[2].headers["Stripe-Version"] == "2023-08-16"


def test_events_older_than_thirty_days_are_gone_as_in_stripe(small_world: Path) -> None:
    """Like Stripe, the events API reaches back 30 days from the world clock, no further."""
    reader = WorldReader(small_world)
    clock = datetime.fromisoformat(reader.meta("clock")).replace(tzinfo=UTC)
    cutoff = (clock + timedelta(days=1) - timedelta(days=30)).timestamp()
    with sqlite3.connect(small_world) as conn:
        old_id, = conn.execute("select id from events where created < ? limit 1",
                               (cutoff,)).fetchone()
        retained = conn.execute("select count(*) from events where created >= ?",
                                (cutoff,)).fetchone()[0]
    headers = {"Authorization": "Bearer sk_test_sandbox_0000"}
    with SandboxServer(small_world) as server:
        seen, after = [], None
        while True:
            page = requests.get(server.url("stripe") + "/v1/events", timeout=10, headers=headers,
                                params={"limit": 100, "created[gte]": 0,
                                        **({"starting_after": after} if after else {})}).json()
            seen += page["data"]
            if not page["has_more"]:
                break
            after = page["data"][-1]["id"]
        old = requests.get(server.url("stripe") + f"/v1/events/{old_id}", headers=headers,
                           timeout=10)
    assert len(seen) == retained > 0
    assert min(event["created"] for event in seen) >= cutoff
    assert old.status_code == 404
    assert old.json()["error"]["code"] == "resource_missing"
