"""Support tickets: who files them, what they are about, and their life until closed.

Ticket volume follows segment and size, rises in an account's first weeks (onboarding
questions), during a bad-bug period and as health falls. Each ticket's future is planned at
creation — first reply, back-and-forth rounds, solve — as actions in the account's queue, and
each status change is emitted on the day it happens. After the solve Zendesk offers a
satisfaction survey (answered good or bad sometimes; bad answers can reopen the ticket) and
closes the ticket four days later. Bugs, escalations, reopens and bad ratings add to the
account's friction signal, which raises churn risk.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from integrations.sandbox.domain import TICKET
from integrations.sandbox.simulation import dynamics, people
from integrations.sandbox.simulation.catalog import FEATURES, PLAN_FEATURES
from integrations.sandbox.simulation.clock import DAY_SECONDS, HOUR_SECONDS
from integrations.sandbox.simulation.context import DayContext
from integrations.sandbox.simulation.presets import PROFILES, SEGMENTS
from integrations.sandbox.simulation.state import AccountState

Mix = tuple[tuple[str, float], ...]
CATEGORY_MIX: dict[str, Mix] = {
    "usual": (("how_to", 0.45), ("bug", 0.22), ("feature_request", 0.18), ("advisory", 0.15)),
    "bug_period": (("how_to", 0.2), ("bug", 0.6), ("feature_request", 0.1), ("advisory", 0.1)),
    "onboarding": (("how_to", 0.62), ("bug", 0.12), ("feature_request", 0.08),
                   ("advisory", 0.18)),
}
PRIORITY_MIX: dict[str, Mix] = {
    "how_to": (("low", 0.35), ("normal", 0.6), ("high", 0.05)),
    "bug": (("low", 0.05), ("normal", 0.5), ("high", 0.35), ("urgent", 0.1)),
    "feature_request": (("low", 0.6), ("normal", 0.4)),
    "advisory": (("low", 0.2), ("normal", 0.7), ("high", 0.1)),
}
TYPE_MIX: dict[str, Mix] = {
    "how_to": (("question", 1.0),),
    "bug": (("incident", 0.75), ("problem", 0.25)),
    "feature_request": (("task", 1.0),),
    "advisory": (("question", 0.6), ("task", 0.4)),
}
FIRST_REPLY_HOURS = {"urgent": 0.6, "high": 2.0, "normal": 5.0, "low": 12.0}
RESOLUTION_HOURS = {"how_to": 18.0, "bug": 60.0, "feature_request": 30.0, "advisory": 36.0}
ROUNDS = {"how_to": (0, 1), "bug": (1, 3), "feature_request": (0, 1), "advisory": (1, 2)}
SUBJECTS = {
    "how_to": ("How do I set up {f}?", "Question about {f} permissions",
               "Where can I change {f} settings?"),
    "bug": ("{F} is not loading", "Error when exporting from {f}",
            "{F} shows wrong numbers since yesterday"),
    "feature_request": ("Request: scheduling for {f}", "Can {f} support custom fields?",
                        "Idea to improve {f}"),
    "advisory": ("Best practice for rolling out {f}", "Advice on structuring {f} for our teams",
                 "Review of our {f} setup"),
}
DESCRIPTIONS = {
    "how_to": "Hi team, we are trying to use {f} for our weekly review and could not work out "
              "how to configure it. Could you point us to the right steps?",
    "bug": "Since this morning {f} fails for several of our users. We tried another browser and "
           "cleared the cache, the problem persists. This is blocking our work.",
    "feature_request": "We would love {f} to cover this use case: our managers need it every "
                       "week and today we export the data by hand.",
    "advisory": "We are planning to roll {f} out to more teams next quarter and would like "
                "your advice on how other customers set it up.",
}
AUTO_CLOSE_DAYS = 4
RATING_CHANCE = 0.4
CES_CHANCE = 0.25
ONBOARDING_DAYS = 45
_TICKETS_PER_DAY = np.array([PROFILES[s].tickets_per_month / 30.0 for s in SEGMENTS])


def _pick(ctx: DayContext, mix: Mix) -> str:
    return ctx.rng.choices([name for name, _ in mix], weights=[w for _, w in mix])[0]


def _hours(ctx: DayContext, median: float, spread: float = 0.8) -> float:
    return median * math.exp(ctx.rng.gauss(0.0, spread)) * HOUR_SECONDS


def daily(ctx: DayContext) -> None:
    """Tickets filed today: one Poisson draw per paying account."""
    arrays, n = ctx.state.arrays, ctx.state.arrays.n
    in_bug_period = arrays.bug_until[:n] >= ctx.ordinal
    onboarding = arrays.history[:n] < ONBOARDING_DAYS
    weakness = 1.0 - dynamics.health(arrays.x[:n])
    weekday = 1.0 if ctx.day.weekday() < 5 else 0.3
    rate = (_TICKETS_PER_DAY[arrays.segment[:n]] * (1 + 3 * in_bug_period)
            * (0.6 + 0.8 * weakness) * (1 + 0.8 * onboarding) * weekday
            * (arrays.paying[:n] & arrays.settled(ctx.ordinal)))
    counts = ctx.draws.poisson(rate)
    for idx in np.flatnonzero(counts):
        account = ctx.state.accounts[idx]
        mix = "bug_period" if in_bug_period[idx] else "onboarding" if onboarding[idx] \
            else "usual"
        for _ in range(int(counts[idx])):
            open_ticket(ctx, account, mix)


def open_ticket(ctx: DayContext, account: AccountState, mix: str) -> None:
    """File one ticket from a contact of `account` and plan its replies and solve."""
    if not account.contacts:
        return
    rng, state = ctx.rng, ctx.state
    category = _pick(ctx, CATEGORY_MIX[mix])
    priority = _pick(ctx, PRIORITY_MIX[category])
    escalation_chance = (0.35 if category == "bug" and priority in ("high", "urgent") else 0.03)
    escalated = rng.random() < escalation_chance + (0.15 if mix == "bug_period" else 0.0)
    requester = rng.choice(account.contacts)
    feature = _topic(ctx, account)
    created = ctx.start_ts + rng.randrange(DAY_SECONDS) if priority == "urgent" \
        else ctx.business_time()
    key = state.next_key("ticket")
    record = account.record
    ticket = {
        "key": key, "id": key, "account_key": account.key,
        "organization_id": record["zendesk_organization_id"],
        "requester_id": requester["zendesk_user_id"], "assignee_id": None,
        "subject": rng.choice(SUBJECTS[category]).format(f=feature.replace("_", " "),
                                                         F=feature.replace("_", " ").title()),
        "description": DESCRIPTIONS[category].format(f=feature.replace("_", " ")),
        "category": category, "ticket_type": _pick(ctx, TYPE_MIX[category]),
        "priority": priority, "status": "new", "escalated": escalated,
        "tags": [category, f"plan_{record['plan'] or 'none'}", record["segment"], feature]
        + (["escalated"] if escalated else []),
        "created_at": created, "updated_at": created, "first_reply_at": None, "solved_at": None,
        "reopens": 0, "replies": 0, "satisfaction": None,
    }
    account.tickets[key] = ticket
    ctx.emit(TICKET, ticket, created)
    arrays = state.arrays
    arrays.friction[account.idx] += (0.25 * (category == "bug") + 0.25 * (priority == "urgent")
                                     + 0.5 * escalated)
    _plan_conversation(ctx, account, ticket, mix == "bug_period")


def _topic(ctx: DayContext, account: AccountState) -> str:
    plan = account.record["plan"] or "starter"
    used = [f for f, on in zip(FEATURES, ctx.state.arrays.adopted[account.idx], strict=True)
            if on and f in PLAN_FEATURES[plan]]
    return ctx.rng.choice(used or list(PLAN_FEATURES[plan]))


def _plan_conversation(ctx: DayContext, account: AccountState, ticket: dict[str, Any],
                       bug_period: bool) -> None:
    segment_pace = 1.5 if account.record["segment"] == "smb" else 1.0
    reply_at = ticket["created_at"] + _hours(ctx, FIRST_REPLY_HOURS[ticket["priority"]]
                                             * segment_pace)
    resolution = RESOLUTION_HOURS[ticket["category"]] * (0.5 if ticket["priority"] == "urgent"
                                                          else 1.0)
    resolution *= (2.0 if ticket["escalated"] else 1.0) * (1.4 if bug_period else 1.0)
    solve_at = reply_at + _hours(ctx, resolution, 0.9)
    key = ticket["key"]
    ctx.schedule(account, reply_at, "ticket", key, "reply")
    rounds = ctx.rng.randint(*ROUNDS[ticket["category"]])
    for step in range(rounds):
        customer_at = reply_at + (solve_at - reply_at) * (step + 0.4) / (rounds + 1)
        ctx.schedule(account, customer_at, "ticket", key, "customer")
        ctx.schedule(account, customer_at + _hours(ctx, 3.0), "ticket", key, "agent")
    ctx.schedule(account, max(solve_at, reply_at + HOUR_SECONDS), "ticket", key, "solve")


def advance_ticket(ctx: DayContext, account: AccountState, when: float, key: int, step: str,
                   *args: Any) -> None:
    """Apply one planned step of ticket `key` (reply, customer, agent, solve, rate, ...)."""
    ticket = account.tickets.get(key)
    if ticket is None:
        return
    changes = _STEPS[step](ctx, account, ticket, when, *args)
    if changes is None:
        return
    when = max(when, ticket["updated_at"])
    updated = {**ticket, **changes, "updated_at": when}
    ctx.emit(TICKET, updated, when)
    if updated["status"] == "closed":
        del account.tickets[key]
    else:
        account.tickets[key] = updated


def _reply(ctx: DayContext, account: AccountState, ticket: dict[str, Any],
           when: float) -> dict[str, Any]:
    return {"status": "pending" if ctx.rng.random() < 0.6 else "open",
            "assignee_id": people.support_agent(ctx, account), "first_reply_at": when,
            "replies": ticket["replies"] + 1}


def _customer(ctx: DayContext, account: AccountState, ticket: dict[str, Any],
              when: float) -> dict[str, Any] | None:
    return {"status": "open"} if ticket["status"] in ("pending", "open", "new") else None


def _agent(ctx: DayContext, account: AccountState, ticket: dict[str, Any],
           when: float) -> dict[str, Any] | None:
    if ticket["status"] not in ("open", "pending", "new"):
        return None
    return {"status": "pending", "replies": ticket["replies"] + 1,
            "assignee_id": ticket["assignee_id"] or people.support_agent(ctx, account),
            "first_reply_at": ticket["first_reply_at"] or when}


def _solve(ctx: DayContext, account: AccountState, ticket: dict[str, Any],
           when: float) -> dict[str, Any] | None:
    if ticket["status"] in ("solved", "closed"):
        return None
    rating = ticket["satisfaction"]
    rating_id = rating["id"] if rating else ctx.ids.zendesk("rating", ticket["key"])
    key = ticket["key"]
    ctx.schedule(account, when + AUTO_CLOSE_DAYS * DAY_SECONDS, "ticket", key, "close", when)
    if ctx.rng.random() < RATING_CHANCE:
        ctx.schedule(account, when + ctx.rng.uniform(2, 60) * HOUR_SECONDS, "ticket", key, "rate")
    if ctx.rng.random() < CES_CHANCE:
        hours = (when - ticket["created_at"]) / HOUR_SECONDS
        ctx.schedule(account, when + ctx.rng.uniform(1, 48) * HOUR_SECONDS, "ces", ticket["id"],
                     ticket["requester_id"], hours, ticket["reopens"], ticket["replies"] + 1)
    return {"status": "solved", "solved_at": when, "replies": ticket["replies"] + 1,
            "assignee_id": ticket["assignee_id"] or people.support_agent(ctx, account),
            "first_reply_at": ticket["first_reply_at"] or when,
            "satisfaction": {"id": rating_id, "score": "offered", "comment": "",
                             "created_at": rating["created_at"] if rating else when,
                             "updated_at": when}}


def _rate(ctx: DayContext, account: AccountState, ticket: dict[str, Any],
          when: float) -> dict[str, Any] | None:
    if ticket["status"] != "solved" or ticket["satisfaction"] is None:
        return None
    arrays = ctx.state.arrays
    health = dynamics.account_health(arrays, account.idx)
    hours = (ticket["solved_at"] - ticket["created_at"]) / HOUR_SECONDS
    odds = 1.6 + 2.5 * (health - 0.6) - 0.012 * hours - 1.0 * ticket["escalated"] \
        - 0.8 * ticket["reopens"]
    good = ctx.rng.random() < 1.0 / (1.0 + math.exp(-odds))
    comment = ctx.rng.choice(("Quick and helpful, thanks!", "Solved my problem.", "")) if good \
        else ctx.rng.choice(("Took far too long.", "The issue is not really fixed.", ""))
    if not good:
        arrays.friction[account.idx] += 0.6
        dynamics.shock(arrays, account.idx, -dynamics.BAD_SUPPORT_SHOCK)
        if ctx.rng.random() < 0.35:
            ctx.schedule(account, when + ctx.rng.uniform(1, 12) * HOUR_SECONDS, "ticket",
                         ticket["key"], "reopen")
    rating = {**ticket["satisfaction"], "score": "good" if good else "bad", "comment": comment,
              "updated_at": when}
    return {"satisfaction": rating}


def _reopen(ctx: DayContext, account: AccountState, ticket: dict[str, Any],
            when: float) -> dict[str, Any] | None:
    if ticket["status"] != "solved":
        return None
    ctx.state.arrays.friction[account.idx] += 0.3
    key = ticket["key"]
    ctx.schedule(account, when + ctx.rng.uniform(1, 20) * HOUR_SECONDS, "ticket", key, "agent")
    ctx.schedule(account, when + ctx.rng.uniform(21, 72) * HOUR_SECONDS, "ticket", key, "solve")
    return {"status": "open", "reopens": ticket["reopens"] + 1}


def _close(ctx: DayContext, account: AccountState, ticket: dict[str, Any], when: float,
           solved_at: float) -> dict[str, Any] | None:
    if ticket["status"] != "solved" or ticket["solved_at"] != solved_at:
        return None
    return {"status": "closed"}


_STEPS: dict[str, Any] = {"reply": _reply, "customer": _customer, "agent": _agent,
                          "solve": _solve, "rate": _rate, "reopen": _reopen, "close": _close}
