"""CRM-side records: the account (company) record and its deals.

Every change builds a new record dict with a new `updated_at` and emits it; the previous dict
is left untouched (see `state.AccountState`).
"""

from __future__ import annotations

from typing import Any

from integrations.sandbox.domain import ACCOUNT, DEAL
from integrations.sandbox.simulation.catalog import discounted_monthly
from integrations.sandbox.simulation.clock import iso_day
from integrations.sandbox.simulation.context import DayContext
from integrations.sandbox.simulation.state import AccountState, WorldState


def update_account(ctx: DayContext, account: AccountState, ts: float, **changes: Any) -> None:
    """Emit the account with `changes` applied (no-op when nothing changes)."""
    record = account.record
    if all(record.get(name) == value for name, value in changes.items()):
        return
    ts = max(ts, record["updated_at"])
    account.record = {**record, **changes, "updated_at": ts}
    ctx.emit(ACCOUNT, account.record, ts)


def contract_fields(state: WorldState, account: AccountState) -> dict[str, Any]:
    """The account's plan, seats and renewal day as the subscription stands now."""
    sub = account.subscription
    if sub is None or sub["status"] == "canceled" or account.price_id is None:
        return {"plan": "", "seats": 0, "renewal_date": None}
    price = state.prices[account.price_id]
    return {"plan": price["plan"], "seats": sub["items"][0]["quantity"],
            "renewal_date": iso_day(sub["current_period_end"])}


def sync_contract(ctx: DayContext, account: AccountState, ts: float) -> None:
    """Re-emit the account when its plan, seats, renewal day or lifecycle stage changed."""
    fields = contract_fields(ctx.state, account)
    stage = "customer" if fields["plan"] else "former_customer"
    update_account(ctx, account, ts, lifecycle_stage=stage, **fields)


def arr_cents(state: WorldState, account: AccountState) -> int:
    """Annual recurring revenue of the account's live subscription after recurring discounts."""
    sub = account.subscription
    if sub is None or sub["status"] == "canceled" or account.price_id is None:
        return 0
    coupon = state.coupons.get(account.coupon_id) if account.coupon_id else None
    quantity = sub["items"][0]["quantity"]
    return round(12 * discounted_monthly(state.prices[account.price_id], quantity, coupon))


def new_deal(ctx: DayContext, account: AccountState, deal_type: str, name: str, amount: int,
             close_date: str, ts: float, created_at: float | None = None,
             stage: str = "open") -> dict[str, Any]:
    """Create and emit a deal (open, or already closed when it enters the CRM late)."""
    key = ctx.state.next_key("deal")
    deal = {
        "key": key,
        "account_key": account.key,
        "owner_key": account.record["owner_key"],
        "name": name,
        "deal_type": deal_type,
        "stage": stage,
        "amount": int(amount),
        "close_date": close_date,
        "created_at": created_at if created_at is not None else ts,
        "updated_at": ts,
        "hubspot_deal_id": ctx.ids.hubspot("deal", key),
        "salesforce_opportunity_id": ctx.ids.salesforce("006", key),
    }
    ctx.emit(DEAL, deal, ts)
    return deal


def close_deal(ctx: DayContext, deal: dict[str, Any], won: bool, ts: float,
               amount: int | None = None) -> dict[str, Any]:
    """Emit the deal closed won or lost on the day of `ts`."""
    ts = max(ts, deal["updated_at"])
    closed = {**deal, "stage": "closed_won" if won else "closed_lost", "close_date": iso_day(ts),
              "amount": int(deal["amount"] if amount is None else amount), "updated_at": ts}
    ctx.emit(DEAL, closed, ts)
    return closed
