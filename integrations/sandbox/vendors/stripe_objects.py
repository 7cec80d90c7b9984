"""Stripe catalog, customer and subscription objects (API 2023-08-16) from canonical records.

Every builder returns the object exactly as Stripe would serve it, with every field the
spec's component schema lists, unexpanded where Stripe leaves a field unexpanded by default
(`customer`, `invoice`, `latest_invoice` are ids) and embedded where Stripe always embeds
(`items[].price`, `discount.coupon`, `lines[].price`). Builders never touch the store; the
renderers (`stripe_render`) look up what they need and pass it in. Invoices and charges are
built in `stripe_billing_objects`; the id and time helpers here serve both.
"""

from __future__ import annotations

import hashlib
import math
import string
from typing import Any

VENDOR = "stripe"
API_VERSION = "2023-08-16"

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def stable_int(*parts: object) -> int:
    """A large non-negative integer derived from `parts` (for deterministic fake details)."""
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest(), 16)


def derived_id(prefix: str, *parts: object, length: int = 24) -> str:
    """A Stripe-looking id (`prefix_` + base62) derived from `parts`: same parts, same id."""
    number, chars = stable_int(*parts), []
    for _ in range(length):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return f"{prefix}_{''.join(chars)}"


def timestamp(seconds: float | None) -> int | None:
    """Canonical float seconds -> Stripe's integer Unix time (None stays None)."""
    return None if seconds is None else math.floor(seconds)


def price_object(price: dict[str, Any]) -> dict[str, Any]:
    """A recurring per-seat `price` from a canonical Price."""
    every = "" if price["interval_count"] == 1 else f"{price['interval_count']} "
    return {
        "id": price["id"],
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": timestamp(price["created_at"]),
        "currency": price["currency"],
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {"plan": price["plan"]},
        "nickname": f"{price['product_name']} (every {every}{price['interval']})",
        "product": price["product_id"],
        "recurring": {
            "aggregate_usage": None,
            "interval": price["interval"],
            "interval_count": price["interval_count"],
            "usage_type": "licensed",
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": price["unit_amount"],
        "unit_amount_decimal": str(price["unit_amount"]),
    }


def product_object(price: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """The `product` a Price belongs to; several prices share one product.

    The product keeps its first creation time and first price as `default_price`, as a
    product created with its first price and extended later does in Stripe. `updated` is set
    by the caller only when something else changed.
    """
    created = timestamp(price["created_at"])
    if previous is not None:
        created = min(created or 0, previous["created"])
    return {
        "id": price["product_id"],
        "object": "product",
        "active": True,
        "created": created,
        "default_price": previous["default_price"] if previous else price["id"],
        "description": None,
        "features": [],
        "images": [],
        "livemode": False,
        "metadata": {"plan": price["plan"]},
        "name": price["product_name"],
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "unit_label": "seat",
        "updated": previous["updated"] if previous else created,
        "url": None,
    }


def coupon_object(coupon: dict[str, Any], times_redeemed: int) -> dict[str, Any]:
    """A `coupon` from a canonical Coupon; `times_redeemed` is counted by the renderers."""
    return {
        "id": coupon["id"],
        "object": "coupon",
        "amount_off": coupon["amount_off"],
        "created": timestamp(coupon["created_at"]),
        "currency": coupon["currency"] if coupon["amount_off"] is not None else None,
        "duration": coupon["duration"],
        "duration_in_months": coupon["duration_in_months"],
        "livemode": False,
        "max_redemptions": None,
        "metadata": {},
        "name": coupon["name"],
        "percent_off": coupon["percent_off"],
        "redeem_by": None,
        "times_redeemed": times_redeemed,
        "valid": True,
    }


def customer_metadata(account: dict[str, Any]) -> dict[str, str]:
    """The metadata the billing system keeps on a customer.

    The CRM ids are there only for the accounts whose CRM record holds the Stripe id too
    (`stripe_id_in_crm`); the others must be matched by domain downstream, as in real data.
    """
    metadata = {"workspace_id": account["workspace_id"]}
    if account["stripe_id_in_crm"]:
        metadata["hubspot_company_id"] = account["hubspot_company_id"]
        metadata["salesforce_account_id"] = account["salesforce_account_id"]
    return metadata


def customer_object(account: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """A `customer` from a canonical Account.

    Metadata merges over the previous version so that keys a connector wrote through the API
    survive the next change of the account; `delinquent` is owned by invoice payments.
    """
    metadata = {**(previous["metadata"] if previous else {}), **customer_metadata(account)}
    return {
        "id": account["stripe_customer_id"],
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": timestamp(account["created_at"]),
        "currency": account["currency"],
        "default_source": None,
        "delinquent": previous["delinquent"] if previous else False,
        "description": None,
        "discount": None,
        "email": account["billing_email"],
        "invoice_prefix": f"{stable_int(account['stripe_customer_id']):X}"[:8],
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": metadata,
        "name": account["name"],
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def discount_object(discount: dict[str, Any], coupon: dict[str, Any], customer_id: str,
                    subscription_id: str | None) -> dict[str, Any]:
    """A subscription's `discount`, embedding its coupon as Stripe always does."""
    return {
        "id": discount["id"],
        "object": "discount",
        "checkout_session": None,
        "coupon": coupon,
        "customer": customer_id,
        "end": timestamp(discount["end"]),
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "start": timestamp(discount["start"]),
        "subscription": subscription_id,
    }


def subscription_item_object(item: dict[str, Any], price: dict[str, Any],
                             subscription_id: str) -> dict[str, Any]:
    """One `subscription_item`, embedding its price."""
    return {
        "id": item["id"],
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": timestamp(item["created_at"]),
        "metadata": {},
        "price": price,
        "quantity": item["quantity"],
        "subscription": subscription_id,
        "tax_rates": [],
    }


def cancellation_reason(subscription: dict[str, Any], previous: dict[str, Any] | None,
                        ) -> str | None:
    """Why a subscription is (being) canceled, as `cancellation_details.reason` says it.

    A reason once given is kept; a subscription canceled straight out of past_due/unpaid was
    canceled for failed payment, any other cancellation was requested.
    """
    if previous and previous["cancellation_details"]["reason"]:
        return str(previous["cancellation_details"]["reason"])
    if subscription["status"] == "canceled":
        if previous and previous["status"] in ("past_due", "unpaid"):
            return "payment_failed"
        return "cancellation_requested"
    return "cancellation_requested" if subscription["cancel_at_period_end"] else None


def subscription_object(subscription: dict[str, Any], items: list[dict[str, Any]],
                        discount: dict[str, Any] | None, previous: dict[str, Any] | None,
                        ) -> dict[str, Any]:
    """A `subscription` (API 2023-08-16: current_period_* still on the subscription)."""
    sub_id = subscription["id"]
    trialing = subscription["status"] == "trialing"
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"enabled": False},
        "billing_cycle_anchor": timestamp(subscription["billing_cycle_anchor"]),
        "billing_thresholds": None,
        "cancel_at": (timestamp(subscription["current_period_end"])
                      if subscription["cancel_at_period_end"] else None),
        "cancel_at_period_end": subscription["cancel_at_period_end"],
        "canceled_at": timestamp(subscription["canceled_at"]),
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "reason": cancellation_reason(subscription, previous),
        },
        "collection_method": subscription["collection_method"],
        "created": timestamp(subscription["created_at"]),
        "currency": subscription["currency"],
        "current_period_end": timestamp(subscription["current_period_end"]),
        "current_period_start": timestamp(subscription["current_period_start"]),
        "customer": subscription["customer_id"],
        "days_until_due": subscription["days_until_due"],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discount": discount,
        "ended_at": timestamp(subscription["ended_at"]),
        "items": {
            "object": "list",
            "data": items,
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": subscription["latest_invoice_id"],
        "livemode": False,
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": timestamp(subscription["start_date"]),
        "status": subscription["status"],
        "test_clock": None,
        "transfer_data": None,
        "trial_end": timestamp(subscription["current_period_end"]) if trialing else None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": timestamp(subscription["start_date"]) if trialing else None,
    }
