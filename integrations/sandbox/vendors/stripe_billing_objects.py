"""Stripe invoice and charge objects (API 2023-08-16) from canonical records (pure functions).

Same rules as `stripe_objects`: every field the spec's component lists, ids where Stripe
leaves a field unexpanded, prices embedded in lines. Failed charges carry what the card
network said (`failure_code`, `outcome`) the way Stripe splits it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from integrations.sandbox.vendors.stripe_objects import derived_id, stable_int, timestamp

ACCOUNT_NAME = "Sandbox SaaS Inc."
ACCOUNT_COUNTRY = "US"
STATEMENT_DESCRIPTOR = "SANDBOX SAAS"

# Decline reasons Stripe reports as `failure_code: card_declined` with the reason in
# `outcome.reason`; other failure codes (expired_card, incorrect_cvc, processing_error) are
# top-level error codes and stay as they are.
DECLINE_REASONS = frozenset({"insufficient_funds", "generic_decline", "do_not_honor",
                             "lost_card", "stolen_card", "fraudulent", "card_velocity_exceeded"})

_TEST_CARDS = (("visa", "4242"), ("mastercard", "4444"), ("visa", "1881"), ("amex", "8431"))


def invoice_line_object(line: dict[str, Any], invoice: dict[str, Any], price: dict[str, Any],
                        discount_id: str | None, subscription_item_id: str | None,
                        ) -> dict[str, Any]:
    """One `line_item` of an invoice, embedding its price.

    Prorations and lines of invoices without a subscription come from invoice items (type
    "invoiceitem"), as Stripe creates prorations as pending invoice items.
    """
    from_item = line["proration"] or invoice["subscription_id"] is None
    body: dict[str, Any] = {
        "id": line["id"],
        "object": "line_item",
        "amount": line["amount"],
        "amount_excluding_tax": line["amount"],
        "currency": invoice["currency"],
        "description": line["description"],
        "discount_amounts": ([{"amount": line["discount_amount"], "discount": discount_id}]
                             if discount_id else []),
        "discountable": True,
        "discounts": [],
        "livemode": False,
        "metadata": {},
        "period": {"end": timestamp(line["period_end"]),
                   "start": timestamp(line["period_start"])},
        "price": price,
        "proration": line["proration"],
        "proration_details": {"credited_items": None},
        "quantity": line["quantity"],
        "subscription": invoice["subscription_id"],
        "tax_amounts": [],
        "tax_rates": [],
        "type": "invoiceitem" if from_item else "subscription",
        "unit_amount_excluding_tax": (str(line["amount"] // line["quantity"])
                                      if line["quantity"] else None),
    }
    if from_item:
        body["invoice_item"] = derived_id("ii", line["id"])
    if subscription_item_id and invoice["subscription_id"]:
        body["subscription_item"] = subscription_item_id
    return body


def invoice_object(invoice: dict[str, Any], lines: list[dict[str, Any]],
                   discount: dict[str, Any] | None, customer: dict[str, Any] | None,
                   ) -> dict[str, Any]:
    """An `invoice` with its `lines` list; all lines are kept (routes page them by 10)."""
    status = invoice["status"]
    finalized = status != "draft"
    discount_id = discount["id"] if discount else None
    return {
        "id": invoice["id"],
        "object": "invoice",
        "account_country": ACCOUNT_COUNTRY,
        "account_name": ACCOUNT_NAME,
        "account_tax_ids": None,
        "amount_due": invoice["amount_due"],
        "amount_paid": invoice["amount_paid"],
        "amount_remaining": invoice["amount_remaining"],
        "amount_shipping": 0,
        "application": None,
        "application_fee_amount": None,
        "attempt_count": invoice["attempt_count"],
        "attempted": invoice["attempt_count"] > 0 or status == "paid",
        "auto_advance": status in ("draft", "open"),
        "automatic_tax": {"enabled": False, "status": None},
        "billing_reason": invoice["billing_reason"],
        "charge": invoice["charge_id"],
        "collection_method": ("send_invoice" if invoice["due_date"] is not None
                              else "charge_automatically"),
        "created": timestamp(invoice["created_at"]),
        "currency": invoice["currency"],
        "custom_fields": None,
        "customer": invoice["customer_id"],
        "customer_address": None,
        "customer_email": customer["email"] if customer else None,
        "customer_name": customer["name"] if customer else None,
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discount": discount,
        "discounts": [discount_id] if discount_id else [],
        "due_date": timestamp(invoice["due_date"]),
        "effective_at": timestamp(invoice["created_at"]) if finalized else None,
        "ending_balance": 0 if finalized else None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "url": f"/v1/invoices/{invoice['id']}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": timestamp(invoice["next_payment_attempt"]),
        "number": invoice["number"] if finalized else None,
        "on_behalf_of": None,
        "paid": status == "paid",
        "paid_out_of_band": False,
        "payment_intent": None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": timestamp(invoice["period_end"]),
        "period_start": timestamp(invoice["period_start"]),
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "quote": None,
        "receipt_number": None,
        "rendering_options": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": status,
        "status_transitions": {
            "finalized_at": timestamp(invoice["created_at"]) if finalized else None,
            "marked_uncollectible_at": (timestamp(invoice["updated_at"])
                                        if status == "uncollectible" else None),
            "paid_at": timestamp(invoice["paid_at"]),
            "voided_at": timestamp(invoice["updated_at"]) if status == "void" else None,
        },
        "subscription": invoice["subscription_id"],
        "subscription_details": {"metadata": {}} if invoice["subscription_id"] else None,
        "subtotal": invoice["subtotal"],
        "subtotal_excluding_tax": invoice["subtotal"],
        "tax": invoice["tax"] or None,
        "test_clock": None,
        "total": invoice["total"],
        "total_discount_amounts": ([{"amount": invoice["total_discount"],
                                     "discount": discount_id}] if discount_id else []),
        "total_excluding_tax": invoice["total"] - invoice["tax"],
        "total_tax_amounts": [],
        "transfer_data": None,
        "webhooks_delivered_at": timestamp(invoice["created_at"]),
    }


def charge_outcome(charge: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """(Stripe failure_code, `outcome`) for a charge: what the card network said."""
    risk_score = stable_int(charge["id"]) % 60
    if charge["status"] == "succeeded":
        return None, {"network_status": "approved_by_network", "reason": None,
                      "risk_level": "normal", "risk_score": risk_score,
                      "seller_message": "Payment complete.", "type": "authorized"}
    code = charge["failure_code"] or "card_declined"
    reason = code if code != "card_declined" else "generic_decline"
    failure_code = "card_declined" if code in DECLINE_REASONS else code
    message = ("The bank did not return any further details with this decline."
               if reason == "generic_decline"
               else f"The bank returned the decline code `{reason}`.")
    return failure_code, {"network_status": "declined_by_network", "reason": reason,
                          "risk_level": "normal", "risk_score": risk_score,
                          "seller_message": message, "type": "issuer_declined"}


def card_details(charge: dict[str, Any], failure_code: str | None) -> dict[str, Any]:
    """The customer's card as `payment_method_details` shows it (one card per customer)."""
    brand, last4 = _TEST_CARDS[stable_int(charge["customer_id"]) % len(_TEST_CARDS)]
    year = datetime.fromtimestamp(charge["created_at"], UTC).year
    return {
        "card": {
            "brand": brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None,
                       "cvc_check": "pass"},
            "country": ACCOUNT_COUNTRY,
            "exp_month": 12,
            "exp_year": year - 1 if failure_code == "expired_card" else year + 3,
            "fingerprint": derived_id("f", charge["customer_id"], length=16)[2:],
            "funding": "credit",
            "installments": None,
            "last4": last4,
            "mandate": None,
            "network": brand,
            "network_token": {"used": False},
            "three_d_secure": None,
            "wallet": None,
        },
        "type": "card",
    }


def charge_object(charge: dict[str, Any]) -> dict[str, Any]:
    """A `charge`: one payment attempt on an invoice, with the network's `outcome`."""
    succeeded = charge["status"] == "succeeded"
    failure_code, outcome = charge_outcome(charge)
    return {
        "id": charge["id"],
        "object": "charge",
        "amount": charge["amount"],
        "amount_captured": charge["amount"] if succeeded else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": derived_id("txn", charge["id"]) if succeeded else None,
        "billing_details": {
            "address": {"city": None, "country": None, "line1": None, "line2": None,
                        "postal_code": None, "state": None},
            "email": None,
            "name": None,
            "phone": None,
        },
        "calculated_statement_descriptor": STATEMENT_DESCRIPTOR,
        "captured": succeeded,
        "created": timestamp(charge["created_at"]),
        "currency": charge["currency"],
        "customer": charge["customer_id"],
        "description": "Subscription payment",
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": failure_code,
        "failure_message": None if succeeded else charge["failure_message"],
        "fraud_details": {},
        "invoice": charge["invoice_id"],
        "livemode": False,
        "metadata": {},
        "on_behalf_of": None,
        "outcome": outcome,
        "paid": succeeded,
        "payment_intent": None,
        "payment_method": derived_id("pm", charge["customer_id"]),
        "payment_method_details": card_details(charge, failure_code),
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "refunds": {"object": "list", "data": [], "has_more": False,
                    "url": f"/v1/charges/{charge['id']}/refunds"},
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": charge["status"],
        "transfer_data": None,
        "transfer_group": None,
    }
