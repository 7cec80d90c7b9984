"""The end of a customer relationship, shared by voluntary and involuntary churn."""

from __future__ import annotations

from integrations.sandbox.simulation import crm
from integrations.sandbox.simulation.context import DayContext
from integrations.sandbox.simulation.state import CHURN_VOLUNTARY, AccountState


def end_customer(ctx: DayContext, account: AccountState, ts: float, kind: int) -> None:
    """The account stops being a customer (its subscription has just ended)."""
    arrays, idx = ctx.state.arrays, account.idx
    arrays.paying[idx] = False
    arrays.churn_day[idx] = ctx.ordinal
    arrays.churn_kind[idx] = kind
    arrays.seats[idx] = 0
    arrays.plan[idx] = -1
    arrays.cancel_pending[idx] = False
    arrays.dunning[idx] = False
    arrays.expansion_open[idx] = False
    account.pending_change = None
    account.expansion_plan = None
    for deal in (account.renewal_deal, account.expansion_deal):
        if deal is not None:
            crm.close_deal(ctx, deal, won=False, ts=ts)
    account.renewal_deal = account.expansion_deal = None
    crm.sync_contract(ctx, account, ts)
    ctx.state.count("churned_voluntary" if kind == CHURN_VOLUNTARY else "churned_involuntary")
