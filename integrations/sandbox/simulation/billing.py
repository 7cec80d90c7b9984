"""Stripe-side records: subscriptions, invoices with lines and discounts, charges and dunning.

Every change to a subscription is emitted the moment it happens, as a full new record, so
month-end MRR can be rebuilt from subscription history alone. Invoices are created at each
period boundary (and for mid-period upgrades, with proration lines); automatic collection
charges the card an hour later (immediately for a new subscription) and, on failure, retries
on days 3, 7 and 14 while the subscription is `past_due`; after the last failure the
subscription is canceled (involuntary churn, handled by `lifecycle`). Invoices sent for
manual payment are paid by transfer after a while, sometimes after their due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.sandbox.domain import CHARGE, INVOICE, SUBSCRIPTION
from integrations.sandbox.simulation import dynamics
from integrations.sandbox.simulation.catalog import CURRENCY, PLAN_NAMES
from integrations.sandbox.simulation.clock import (
    DAY_SECONDS,
    HOUR_SECONDS,
    add_months,
    boundary,
    day_of,
    day_start,
    period_days,
)
from integrations.sandbox.simulation.context import DayContext
from integrations.sandbox.simulation.state import AccountState

RETRY_GAPS_DAYS = (3, 4, 7)
"""Days between payment attempts: attempts on days 0, 3, 7 and 14 of dunning."""
FAILURES = (("card_declined", 0.45, "Your card was declined."),
            ("insufficient_funds", 0.35, "Your card has insufficient funds."),
            ("expired_card", 0.20, "Your card has expired."))
RECOVERY_BASE = {"card_declined": 0.35, "insufficient_funds": 0.3, "expired_card": 0.2}
"""Chance a retry succeeds at zero health; health adds up to 0.4 (customers fix cards)."""
FINALIZE_DELAY = HOUR_SECONDS
DAYS_UNTIL_DUE = 30


@dataclass(frozen=True)
class Contract:
    """What a customer buys: a price, a number of seats, an optional coupon, how they pay."""

    price_id: str
    seats: int
    coupon_id: str | None
    collection_method: str


def _interval_words(price: dict[str, Any]) -> str:
    count, interval = price["interval_count"], price["interval"]
    return interval if count == 1 else f"every {count} {interval}s"


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _coupon_for(ctx: DayContext, sub: dict[str, Any], ts: float) -> dict[str, Any] | None:
    discount = sub["discount"]
    if discount is None or (discount["end"] is not None and ts >= discount["end"]):
        return None
    return ctx.state.coupons[discount["coupon_id"]]


def _line(ctx: DayContext, price: dict[str, Any], quantity: int, amount: int,
          period: tuple[float, float], description: str, proration: bool) -> dict[str, Any]:
    key = ctx.state.next_key("invoice_line")
    return {"id": ctx.ids.stripe("il", key, 24), "price_id": price["id"], "quantity": quantity,
            "amount": amount, "discount_amount": 0, "period_start": period[0],
            "period_end": period[1], "proration": proration, "description": description}


def _apply_coupon(lines: list[dict[str, Any]], coupon: dict[str, Any] | None,
                  ) -> list[dict[str, Any]]:
    """Spread a coupon over the lines: percentages per line, amounts up to the line total."""
    if coupon is None:
        return lines
    if coupon["percent_off"] is not None:
        return [{**line, "discount_amount": round(line["amount"] * coupon["percent_off"] / 100)}
                for line in lines]
    remaining = coupon["amount_off"] or 0
    discounted = []
    for line in lines:
        cut = max(0, min(remaining, line["amount"]))
        remaining -= cut
        discounted.append({**line, "discount_amount": cut})
    return discounted


def _issue_invoice(ctx: DayContext, account: AccountState, lines: list[dict[str, Any]],
                   reason: str, ts: float, period: tuple[float, float],
                   **sub_changes: Any) -> dict[str, Any]:
    """Invoice the subscription: emit it (with `sub_changes` and the new latest invoice),
    then the open invoice, and plan the payment.

    The subscription goes first, as in Stripe's own event order, so whatever reads the
    invoice finds the subscription it belongs to.
    """
    sub = account.subscription
    assert sub is not None
    key = ctx.state.next_key("invoice")
    account.invoices_issued += 1
    subtotal = sum(line["amount"] for line in lines)
    discount = sum(line["discount_amount"] for line in lines)
    total = max(0, subtotal - discount)
    manual = sub["collection_method"] == "send_invoice"
    invoice = {
        "key": key, "id": ctx.ids.stripe("in", key, 24),
        "number": f"{account.invoice_prefix}-{account.invoices_issued:04d}",
        "account_key": account.key, "customer_id": sub["customer_id"],
        "subscription_id": sub["id"], "status": "open", "billing_reason": reason,
        "created_at": ts, "updated_at": ts, "period_start": period[0], "period_end": period[1],
        "due_date": ts + DAYS_UNTIL_DUE * DAY_SECONDS if manual else None,
        "subtotal": subtotal, "total_discount": discount, "tax": 0, "total": total,
        "amount_due": total, "amount_paid": 0, "amount_remaining": total, "attempt_count": 0,
        "next_payment_attempt": None if manual else ts + FINALIZE_DELAY, "paid_at": None,
        "currency": CURRENCY, "charge_id": None, "lines": lines,
    }
    _emit_subscription(ctx, account, ts, **sub_changes, latest_invoice_id=invoice["id"])
    ctx.emit(INVOICE, invoice, ts)
    account.open_invoices[invoice["id"]] = invoice
    if total == 0:
        _settle(ctx, account, invoice, ts, None)
    elif manual:
        _schedule_transfer(ctx, account, invoice, ts)
    else:
        delay = 5.0 if reason == "subscription_create" else FINALIZE_DELAY
        ctx.schedule(account, ts + delay, "pay", invoice["id"])
    return invoice


def _schedule_transfer(ctx: DayContext, account: AccountState, invoice: dict[str, Any],
                       ts: float) -> None:
    weakness = 1.5 - dynamics.account_health(ctx.state.arrays, account.idx)
    days = ctx.rng.lognormvariate(2.7, 0.5) * weakness
    ctx.schedule(account, ts + days * DAY_SECONDS, "transfer", invoice["id"])
    ctx.schedule(account, invoice["due_date"], "overdue", invoice["id"])


def _emit_subscription(ctx: DayContext, account: AccountState, ts: float,
                       **changes: Any) -> dict[str, Any]:
    sub = account.subscription
    assert sub is not None
    ts = max(ts, sub["updated_at"])
    account.subscription = {**sub, **changes, "updated_at": ts}
    ctx.emit(SUBSCRIPTION, account.subscription, ts)
    return account.subscription


def cycle_lines(ctx: DayContext, price: dict[str, Any], seats: int,
                period: tuple[float, float]) -> list[dict[str, Any]]:
    """The one line of a period invoice: seats × the per-seat price."""
    text = (f"{seats} × {PLAN_NAMES[price['plan']]} (at {_money(price['unit_amount'])} / "
            f"{_interval_words(price)})")
    return [_line(ctx, price, seats, price["unit_amount"] * seats, period, text, False)]


def start(ctx: DayContext, account: AccountState, contract: Contract, anchor: float,
          ts: float) -> None:
    """Create the account's subscription anchored at `anchor`, billed up to `ts`.

    A new customer has `anchor == ts`. A customer older than the simulated history is
    created as Stripe would hold it on the first day: its current period and the invoice
    that opened it, already paid.
    """
    state, ids = ctx.state, ctx.ids
    price = state.prices[contract.price_id]
    account.price_id, account.coupon_id = contract.price_id, contract.coupon_id
    account.period_index, period = period_containing(price, anchor, ts)
    key, item_key = state.next_key("subscription"), state.next_key("subscription_item")
    discount = None
    if contract.coupon_id is not None:
        discount = _discount(ctx, contract.coupon_id, anchor)
    account.subscription = {
        "key": key, "id": ids.stripe("sub", key, 24), "account_key": account.key,
        "customer_id": account.record["stripe_customer_id"], "status": "active",
        "created_at": anchor, "updated_at": period[0], "start_date": anchor,
        "billing_cycle_anchor": anchor, "current_period_start": period[0],
        "current_period_end": period[1], "cancel_at_period_end": False, "canceled_at": None,
        "ended_at": None,
        "items": [{"id": ids.stripe("si", item_key, 14), "price_id": price["id"],
                   "quantity": contract.seats, "created_at": anchor}],
        "discount": discount, "currency": CURRENCY,
        "collection_method": contract.collection_method,
        "days_until_due": DAYS_UNTIL_DUE if contract.collection_method == "send_invoice"
        else None,
        "latest_invoice_id": None,
    }
    if anchor < ts:
        _bootstrap_invoice(ctx, account, price, contract.seats, period)
    else:
        _open_period(ctx, account, "subscription_create", period[0])
    if discount is not None and discount["end"] is not None:
        ctx.schedule(account, discount["end"], "discount_end", discount["id"])


def _months_after(ts: float, months: int) -> float:
    anchor_day = day_of(ts)
    return day_start(add_months(anchor_day, months)) + (ts - day_start(anchor_day))


def period_containing(price: dict[str, Any], anchor: float, ts: float,
                      ) -> tuple[int, tuple[float, float]]:
    """The index, start and end of the period of a subscription anchored at `anchor` that
    contains `ts`."""
    interval, count = price["interval"], price["interval_count"]
    index = max(0, int((ts - anchor) // (period_days(interval, count) * DAY_SECONDS)) - 1)
    while index > 0 and boundary(anchor, interval, count, index) > ts:
        index -= 1
    while boundary(anchor, interval, count, index + 1) <= ts:
        index += 1
    return index, (boundary(anchor, interval, count, index),
                   boundary(anchor, interval, count, index + 1))


def current_period(prices: dict[str, dict[str, Any]], price_id: str, anchor: float,
                   index: int) -> tuple[float, float]:
    """Start and end of period `index` of a subscription anchored at `anchor`."""
    price = prices[price_id]
    interval, count = price["interval"], price["interval_count"]
    return boundary(anchor, interval, count, index), boundary(anchor, interval, count, index + 1)


def _bootstrap_invoice(ctx: DayContext, account: AccountState, price: dict[str, Any],
                       seats: int, period: tuple[float, float]) -> None:
    """The paid invoice of a pre-existing customer's current period (all in the past)."""
    sub = account.subscription
    assert sub is not None
    reason = "subscription_create" if account.period_index == 0 else "subscription_cycle"
    coupon = _coupon_for(ctx, sub, period[0])
    lines = _apply_coupon(cycle_lines(ctx, price, seats, period), coupon)
    key = ctx.state.next_key("invoice")
    invoice_id = ctx.ids.stripe("in", key, 24)
    account.invoices_issued = account.period_index + 1
    total = sum(li["amount"] - li["discount_amount"] for li in lines)
    paid_at = period[0] + FINALIZE_DELAY
    charge = _charge(ctx, account, invoice_id, total, paid_at, None)
    invoice = {
        "key": key, "id": invoice_id,
        "number": f"{account.invoice_prefix}-{account.invoices_issued:04d}",
        "account_key": account.key, "customer_id": sub["customer_id"],
        "subscription_id": sub["id"], "status": "paid", "billing_reason": reason,
        "created_at": period[0], "updated_at": paid_at, "period_start": period[0],
        "period_end": period[1],
        "due_date": period[0] + DAYS_UNTIL_DUE * DAY_SECONDS
        if sub["collection_method"] == "send_invoice" else None,
        "subtotal": sum(li["amount"] for li in lines),
        "total_discount": sum(li["discount_amount"] for li in lines), "tax": 0, "total": total,
        "amount_due": total, "amount_paid": total, "amount_remaining": 0, "attempt_count": 1,
        "next_payment_attempt": None, "paid_at": paid_at, "currency": CURRENCY,
        "charge_id": charge["id"], "lines": lines,
    }
    account.subscription = {**sub, "latest_invoice_id": invoice["id"]}
    ctx.emit(SUBSCRIPTION, account.subscription, account.subscription["updated_at"])
    ctx.emit(INVOICE, invoice, period[0])
    ctx.emit(CHARGE, charge, paid_at)
    ctx.emit(INVOICE, invoice, paid_at)


def _open_period(ctx: DayContext, account: AccountState, reason: str, ts: float,
                 **sub_changes: Any) -> None:
    """Invoice the current period and emit the subscription that now points at it."""
    assert account.subscription is not None and account.price_id is not None
    sub = {**account.subscription, **sub_changes}
    price = ctx.state.prices[account.price_id]
    period = (sub["current_period_start"], sub["current_period_end"])
    coupon = _coupon_for(ctx, sub, ts)
    lines = _apply_coupon(cycle_lines(ctx, price, sub["items"][0]["quantity"], period), coupon)
    _issue_invoice(ctx, account, lines, reason, ts, period, **sub_changes)
    if coupon is not None and coupon["duration"] == "once":
        account.coupon_id = None
        _emit_subscription(ctx, account, ts, discount=None)


def renew(ctx: DayContext, account: AccountState, ts: float) -> None:
    """Start the next period (applying a change agreed at the renewal check) and invoice it."""
    sub = account.subscription
    assert sub is not None and account.price_id is not None
    items = sub["items"]
    if account.pending_change is not None:
        price_id, seats = account.pending_change
        account.pending_change = None
        account.price_id = price_id
        items = [{**items[0], "price_id": price_id, "quantity": seats}]
    account.period_index += 1
    period = current_period(ctx.state.prices, account.price_id, sub["billing_cycle_anchor"],
                            account.period_index)
    _open_period(ctx, account, "subscription_cycle", ts, items=items,
                 current_period_start=period[0], current_period_end=period[1])


def change(ctx: DayContext, account: AccountState, ts: float, price_id: str, seats: int) -> None:
    """An upgrade or seat increase mid-period, invoiced at once with proration lines."""
    sub = account.subscription
    assert sub is not None and account.price_id is not None
    old_price, new_price = ctx.state.prices[account.price_id], ctx.state.prices[price_id]
    old_seats = sub["items"][0]["quantity"]
    start_, end = sub["current_period_start"], sub["current_period_end"]
    share = max(0.0, (end - ts) / (end - start_))
    when = day_of(ts).strftime("%d %b %Y")
    old_name, new_name = PLAN_NAMES[old_price["plan"]], PLAN_NAMES[new_price["plan"]]
    lines = [
        _line(ctx, old_price, old_seats, -round(old_price["unit_amount"] * old_seats * share),
              (ts, end), f"Unused time on {old_seats} × {old_name} after {when}", True),
        _line(ctx, new_price, seats, round(new_price["unit_amount"] * seats * share),
              (ts, end), f"Remaining time on {seats} × {new_name} after {when}", True),
    ]
    coupon = _coupon_for(ctx, sub, ts)
    if coupon is not None and coupon["percent_off"] is not None:
        lines = _apply_coupon(lines, coupon)
    account.price_id = price_id
    _issue_invoice(ctx, account, lines, "subscription_update", ts, (ts, end),
                   items=[{**sub["items"][0], "price_id": price_id, "quantity": seats}])


def _charge(ctx: DayContext, account: AccountState, invoice_id: str, amount: int, ts: float,
            failure: tuple[str, str] | None) -> dict[str, Any]:
    key = ctx.state.next_key("charge")
    return {"key": key, "id": ctx.ids.stripe("ch", key, 24), "account_key": account.key,
            "customer_id": account.record["stripe_customer_id"], "invoice_id": invoice_id,
            "amount": amount, "currency": CURRENCY,
            "status": "failed" if failure else "succeeded",
            "failure_code": failure[0] if failure else None,
            "failure_message": failure[1] if failure else None, "created_at": ts}


def _settle(ctx: DayContext, account: AccountState, invoice: dict[str, Any], ts: float,
            charge_id: str | None) -> None:
    paid = {**invoice, "status": "paid", "amount_paid": invoice["amount_due"],
            "amount_remaining": 0, "next_payment_attempt": None, "paid_at": ts,
            "charge_id": charge_id or invoice["charge_id"], "updated_at": ts,
            "attempt_count": invoice["attempt_count"] + (charge_id is not None)}
    ctx.emit(INVOICE, paid, ts)
    account.open_invoices.pop(invoice["id"], None)


def _failure_chance(ctx: DayContext, account: AccountState) -> float:
    arrays = ctx.state.arrays
    if arrays.dunning[account.idx]:
        return 0.7
    weakness = 1.0 - dynamics.account_health(arrays, account.idx)
    return min(0.6, float(arrays.card_risk[account.idx]) * (0.6 + 1.2 * weakness))


def attempt_payment(ctx: DayContext, account: AccountState, ts: float, invoice_id: str) -> str:
    """Charge the card for an open invoice: "paid", "failed" (will retry) or "exhausted"."""
    invoice = account.open_invoices.get(invoice_id)
    sub = account.subscription
    if invoice is None or sub is None or sub["status"] == "canceled":
        return "stale"
    arrays = ctx.state.arrays
    code = account.failing.get(invoice_id)
    if code is not None:
        health = dynamics.account_health(arrays, account.idx)
        fails = ctx.rng.random() >= RECOVERY_BASE[code] + 0.4 * health
    else:
        fails = ctx.rng.random() < _failure_chance(ctx, account)
        code = ctx.rng.choices([f[0] for f in FAILURES], weights=[f[1] for f in FAILURES])[0]
    if not fails:
        charge = _charge(ctx, account, invoice_id, invoice["amount_due"], ts, None)
        ctx.emit(CHARGE, charge, ts)
        _settle(ctx, account, invoice, ts, charge["id"])
        account.failing.pop(invoice_id, None)
        if not account.failing:
            arrays.dunning[account.idx] = False
            if sub["status"] == "past_due":
                _emit_subscription(ctx, account, ts, status="active")
        return "paid"
    return _fail(ctx, account, invoice, ts, code)


def _fail(ctx: DayContext, account: AccountState, invoice: dict[str, Any], ts: float,
          code: str) -> str:
    message = next(f[2] for f in FAILURES if f[0] == code)
    charge = _charge(ctx, account, invoice["id"], invoice["amount_due"], ts, (code, message))
    ctx.emit(CHARGE, charge, ts)
    attempt = invoice["attempt_count"] + 1
    retry = None
    if attempt <= len(RETRY_GAPS_DAYS):
        # Smart retries pick their hour; the jitter also keeps a weekly plan's retry off the
        # exact second its next invoice is charged.
        jitter = ctx.rng.randrange(-3 * HOUR_SECONDS, 3 * HOUR_SECONDS)
        retry = ts + RETRY_GAPS_DAYS[attempt - 1] * DAY_SECONDS + jitter
    failed = {**invoice, "attempt_count": attempt, "next_payment_attempt": retry,
              "charge_id": charge["id"], "updated_at": ts}
    account.open_invoices[invoice["id"]] = failed
    account.failing[invoice["id"]] = code
    ctx.emit(INVOICE, failed, ts)
    arrays = ctx.state.arrays
    arrays.pay_trouble[account.idx] += 1.0
    if attempt == 1:
        dynamics.shock(arrays, account.idx, -dynamics.PAYMENT_FAILURE_SHOCK)
    arrays.dunning[account.idx] = True
    if account.subscription is not None and account.subscription["status"] == "active":
        _emit_subscription(ctx, account, ts, status="past_due")
    if retry is None:
        return "exhausted"
    ctx.schedule(account, retry, "pay", invoice["id"])
    return "failed"


def pay_by_transfer(ctx: DayContext, account: AccountState, when: float, invoice_id: str) -> None:
    """A manually collected invoice is paid (bank transfer recorded as a charge)."""
    invoice = account.open_invoices.get(invoice_id)
    if invoice is None:
        return
    charge = _charge(ctx, account, invoice_id, invoice["amount_due"], when, None)
    ctx.emit(CHARGE, charge, when)
    _settle(ctx, account, invoice, when, charge["id"])


def mark_overdue(ctx: DayContext, account: AccountState, when: float, invoice_id: str) -> None:
    """An unpaid manual invoice passes its due date: a payment signal, no record changes."""
    if invoice_id in account.open_invoices:
        ctx.state.arrays.pay_trouble[account.idx] += 0.7


def end_discount(ctx: DayContext, account: AccountState, when: float,
                 discount_id: str) -> None:
    """A repeating coupon runs out: the subscription loses that discount."""
    sub = account.subscription
    if sub is None or sub["status"] == "canceled" or sub["discount"] is None \
            or sub["discount"]["id"] != discount_id:
        return
    account.coupon_id = None
    _emit_subscription(ctx, account, when, discount=None)


def _discount(ctx: DayContext, coupon_id: str, ts: float) -> dict[str, Any]:
    """A discount applying `coupon_id` from `ts` (repeating coupons end months later)."""
    coupon = ctx.state.coupons[coupon_id]
    end = _months_after(ts, coupon["duration_in_months"]) if coupon["duration"] == "repeating" \
        else None
    key = ctx.state.next_key("discount")
    return {"id": ctx.ids.stripe("di", key, 24), "coupon_id": coupon_id, "start": ts, "end": end}


def add_discount(ctx: DayContext, account: AccountState, ts: float, coupon_id: str) -> None:
    """Attach a coupon now (a renewal save offer), replacing any current discount."""
    sub = account.subscription
    assert sub is not None
    discount = _discount(ctx, coupon_id, ts)
    account.coupon_id = coupon_id
    _emit_subscription(ctx, account, ts, discount=discount)
    if discount["end"] is not None:
        ctx.schedule(account, discount["end"], "discount_end", discount["id"])


def request_cancel(ctx: DayContext, account: AccountState, ts: float) -> None:
    """The customer gives notice: canceled at the end of the current period."""
    ctx.state.arrays.cancel_pending[account.idx] = True
    _emit_subscription(ctx, account, ts, cancel_at_period_end=True, canceled_at=ts)


def end(ctx: DayContext, account: AccountState, ts: float, involuntary: bool) -> None:
    """The subscription ends now; invoices still in dunning become uncollectible.

    Invoices sent for manual payment stay open: their transfer is still on its way.
    """
    changes: dict[str, Any] = {"status": "canceled", "ended_at": ts}
    if involuntary:
        changes["canceled_at"] = ts
    for invoice_id in list(account.failing):
        invoice = account.open_invoices.pop(invoice_id)
        lost = {**invoice, "status": "uncollectible", "next_payment_attempt": None,
                "updated_at": max(ts, invoice["updated_at"])}
        ctx.emit(INVOICE, lost, lost["updated_at"])
    account.failing.clear()
    _emit_subscription(ctx, account, ts, **changes)

