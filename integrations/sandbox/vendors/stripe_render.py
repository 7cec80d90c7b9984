"""Renderers: canonical billing records -> stored Stripe objects plus their events.

Registered with the store at import. Each renderer builds the full new object, stores it only
if it changed, and appends the events Stripe would send for that change (a subscription
going to canceled sends `customer.subscription.deleted`; an invoice being paid sends
`invoice.paid` and `invoice.payment_succeeded` besides `invoice.updated`). Objects that embed
others (subscription items embed prices, discounts embed coupons) read them from the store,
so the generator must put prices and coupons before the subscriptions that use them.

An invoice put before its subscription's first state (the generator opens a subscription's
first invoice and then emits the subscription pointing at it) is parked and rendered right
after that subscription: its discount and subscription item are only known from the
subscription, and Stripe itself announces `customer.subscription.created` first.
"""

from __future__ import annotations

from typing import Any

from integrations.sandbox import domain
from integrations.sandbox.store import Sink, VendorObject, register_renderer
from integrations.sandbox.vendors.stripe_billing_objects import (
    charge_object,
    invoice_line_object,
    invoice_object,
)
from integrations.sandbox.vendors.stripe_events import (
    Change,
    announce,
    created_or_updated,
    save,
)
from integrations.sandbox.vendors.stripe_objects import (
    VENDOR,
    coupon_object,
    customer_object,
    discount_object,
    price_object,
    product_object,
    subscription_item_object,
    subscription_object,
)

PARKED_KIND = "parked_invoices"
"""Internal (never served): canonical invoices waiting for their subscription, per sub id."""


def stored(sink: Sink, kind: str, object_id: str, needed_by: str) -> dict[str, Any]:
    """A Stripe object another one embeds; a clear error if it was never rendered."""
    body = sink.previous(VENDOR, kind, object_id)
    if body is None:
        raise ValueError(f"stripe: {needed_by} needs {kind} {object_id!r}, which was never "
                         f"put; put prices and coupons before what uses them")
    return body


def render_price(price: dict[str, Any], sink: Sink) -> None:
    """PRICE -> its `product` (created with the first price) and the `price`."""
    previous_product = sink.previous(VENDOR, "products", price["product_id"])
    product = product_object(price, previous_product)
    if previous_product is not None and _differs_besides(product, previous_product, "updated"):
        product["updated"] = int(price["created_at"])
    at = price["created_at"]
    change = save(sink, "products", product, updated=at)
    if change:
        announce(sink, change, created_or_updated(change, "product"), at)
    change = save(sink, "prices", price_object(price), updated=at)
    if change:
        announce(sink, change, created_or_updated(change, "price"), at)


def _differs_besides(new: dict[str, Any], old: dict[str, Any], ignored: str) -> bool:
    return {k: v for k, v in new.items() if k != ignored} != {
        k: v for k, v in old.items() if k != ignored}


def render_coupon(coupon: dict[str, Any], sink: Sink) -> None:
    """COUPON -> `coupon` (keeping the redemption count the subscriptions made)."""
    previous = sink.previous(VENDOR, "coupons", coupon["id"])
    body = coupon_object(coupon, previous["times_redeemed"] if previous else 0)
    change = save(sink, "coupons", body, updated=coupon["created_at"])
    if change:
        announce(sink, change, created_or_updated(change, "coupon"), coupon["created_at"])


def render_account(account: dict[str, Any], sink: Sink) -> None:
    """ACCOUNT -> `customer`; CRM-only changes of the account leave it (and events) alone."""
    previous = sink.previous(VENDOR, "customers", account["stripe_customer_id"])
    change = save(sink, "customers", customer_object(account, previous),
                  updated=account["updated_at"])
    if change:
        announce(sink, change, created_or_updated(change, "customer"), account["updated_at"])


def _redeem(sink: Sink, coupon_id: str, needed_by: str) -> dict[str, Any]:
    """Count one more redemption of a coupon; Stripe sends no event for that."""
    coupon = stored(sink, "coupons", coupon_id, needed_by)
    coupon = {**coupon, "times_redeemed": coupon["times_redeemed"] + 1}
    sink.upsert(VendorObject(VENDOR, "coupons", coupon_id, created=coupon["created"],
                             updated=coupon["created"], body=coupon))
    return coupon


def _subscription_discount(subscription: dict[str, Any], previous: dict[str, Any] | None,
                           sink: Sink) -> dict[str, Any] | None:
    discount = subscription["discount"]
    if discount is None:
        return None
    needed_by = f"subscription {subscription['id']}"
    old = previous["discount"] if previous else None
    if old is not None and old["id"] == discount["id"]:
        coupon = old["coupon"]
    else:
        coupon = _redeem(sink, discount["coupon_id"], needed_by)
    return discount_object(discount, coupon, subscription["customer_id"], subscription["id"])


def render_subscription(subscription: dict[str, Any], sink: Sink) -> None:
    """SUBSCRIPTION -> `subscription` with its items (each embedding its price) and discount."""
    sub_id = subscription["id"]
    previous = sink.previous(VENDOR, "subscriptions", sub_id)
    items = [subscription_item_object(item, stored(sink, "prices", item["price_id"],
                                                   f"subscription {sub_id}"), sub_id)
             for item in subscription["items"]]
    discount = _subscription_discount(subscription, previous, sink)
    body = subscription_object(subscription, items, discount, previous)
    change = save(sink, "subscriptions", body, updated=subscription["updated_at"])
    if change:
        announce(sink, change, subscription_event_types(change), subscription["updated_at"])
    if previous is None:
        for invoice in _unpark(sink, sub_id):
            render_invoice(invoice, sink)


def _park(sink: Sink, invoice: dict[str, Any]) -> None:
    """Keep an invoice whose subscription was never put until that subscription arrives."""
    sub_id = invoice["subscription_id"]
    parked = sink.previous(VENDOR, PARKED_KIND, sub_id) or {"id": sub_id, "records": []}
    parked["records"].append(invoice)
    sink.upsert(VendorObject(VENDOR, PARKED_KIND, sub_id, created=invoice["created_at"],
                             updated=invoice["updated_at"], body=parked))


def _unpark(sink: Sink, sub_id: str) -> list[dict[str, Any]]:
    """The invoices parked for a subscription, in the order they were put; clears them."""
    parked = sink.previous(VENDOR, PARKED_KIND, sub_id)
    if not parked or not parked["records"]:
        return []
    sink.upsert(VendorObject(VENDOR, PARKED_KIND, sub_id, created=0, updated=0,
                             body={"id": sub_id, "records": []}, deleted=True))
    return list(parked["records"])


def subscription_event_types(change: Change) -> list[str]:
    """created for a new subscription; deleted when it becomes canceled; else updated."""
    was_canceled = change.previous is not None and change.previous["status"] == "canceled"
    types = created_or_updated(change, "customer.subscription")
    if change.current["status"] == "canceled" and not was_canceled:
        types = ([*types, "customer.subscription.deleted"] if change.is_new
                 else ["customer.subscription.deleted"])
    return types


def _invoice_discount(invoice: dict[str, Any], previous: dict[str, Any] | None,
                      sub: dict[str, Any] | None) -> dict[str, Any] | None:
    """The discount an invoice shows: the one it had, else its subscription's current one.

    Canonical invoices carry only discount amounts; a discounted invoice whose subscription
    no longer has a discount cannot name its discount, which is a generator ordering error.
    """
    discounted = invoice["total_discount"] or any(line["discount_amount"]
                                                  for line in invoice["lines"])
    if not discounted:
        return None
    if previous and previous["discount"]:
        return dict(previous["discount"])
    if sub is None or sub["discount"] is None:
        raise ValueError(f"stripe: invoice {invoice['id']} has a discount but its subscription "
                         f"has none; put the invoice before removing the discount")
    return {**sub["discount"], "invoice": None, "subscription": invoice["subscription_id"]}


def _item_for_price(subscription: dict[str, Any] | None, price_id: str) -> str | None:
    """The subscription item a line bills: the item with that price, else the only item."""
    if subscription is None:
        return None
    items = subscription["items"]["data"]
    for item in items:
        if item["price"]["id"] == price_id:
            return str(item["id"])
    return str(items[0]["id"]) if len(items) == 1 else None


def render_invoice(invoice: dict[str, Any], sink: Sink) -> None:
    """INVOICE -> `invoice` with its lines; payment results also move customer delinquency."""
    sub = (sink.previous(VENDOR, "subscriptions", invoice["subscription_id"])
           if invoice["subscription_id"] else None)
    if invoice["subscription_id"] and sub is None:
        _park(sink, invoice)
        return
    previous = sink.previous(VENDOR, "invoices", invoice["id"])
    discount = _invoice_discount(invoice, previous, sub)
    lines = [invoice_line_object(line, invoice,
                                 stored(sink, "prices", line["price_id"],
                                        f"invoice {invoice['id']}"),
                                 discount["id"] if discount else None,
                                 _item_for_price(sub, line["price_id"]))
             for line in invoice["lines"]]
    customer = sink.previous(VENDOR, "customers", invoice["customer_id"])
    change = save(sink, "invoices", invoice_object(invoice, lines, discount, customer),
                  updated=invoice["updated_at"])
    if not change:
        return
    types = invoice_event_types(change)
    announce(sink, change, types, invoice["updated_at"])
    if "invoice.payment_failed" in types:
        _set_delinquent(sink, invoice["customer_id"], True, invoice["updated_at"])
    elif "invoice.paid" in types:
        _set_delinquent(sink, invoice["customer_id"], False, invoice["updated_at"])


def invoice_event_types(change: Change) -> list[str]:
    """The events of an invoice change, in the order Stripe sends them."""
    old = change.previous or {"status": None, "attempt_count": 0}
    new = change.current
    types = created_or_updated(change, "invoice")
    if new["status"] != "draft" and old["status"] in (None, "draft"):
        types.append("invoice.finalized")
    if new["status"] == "paid" and old["status"] != "paid":
        types += ["invoice.paid", "invoice.payment_succeeded"]
    elif new["attempt_count"] > old["attempt_count"]:
        types.append("invoice.payment_failed")
    if new["status"] == "void" and old["status"] != "void":
        types.append("invoice.voided")
    if new["status"] == "uncollectible" and old["status"] != "uncollectible":
        types.append("invoice.marked_uncollectible")
    return types


def _set_delinquent(sink: Sink, customer_id: str, delinquent: bool, at: float) -> None:
    """Stripe flags a customer delinquent while their latest invoice payment failed."""
    customer = sink.previous(VENDOR, "customers", customer_id)
    if customer is None or customer["delinquent"] == delinquent:
        return
    change = save(sink, "customers", {**customer, "delinquent": delinquent}, updated=at)
    if change:
        announce(sink, change, ["customer.updated"], at)


def render_charge(charge: dict[str, Any], sink: Sink) -> None:
    """CHARGE -> `charge`, announced as charge.succeeded or charge.failed."""
    change = save(sink, "charges", charge_object(charge), updated=charge["created_at"])
    if change:
        types = ([f"charge.{charge['status']}"] if change.is_new else ["charge.updated"])
        announce(sink, change, types, charge["created_at"])


register_renderer(domain.PRICE, render_price)
register_renderer(domain.COUPON, render_coupon)
register_renderer(domain.ACCOUNT, render_account)
register_renderer(domain.SUBSCRIPTION, render_subscription)
register_renderer(domain.INVOICE, render_invoice)
register_renderer(domain.CHARGE, render_charge)
