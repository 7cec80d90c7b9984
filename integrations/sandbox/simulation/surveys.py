"""Survey answers: a quarterly NPS campaign to customers' contacts, and CES after support.

NPS (0–10) comes from the account's health with noise, so detractors cluster in accounts
that are really at risk but not perfectly; the latest answer becomes the account's NPS
signal. CES (1–7, higher means *less* effort) follows the ticket experience: more replies,
reopens and a long resolution mean more effort.
"""

from __future__ import annotations

import math

import numpy as np

from integrations.sandbox.domain import SURVEY_RESPONSE
from integrations.sandbox.simulation import dynamics
from integrations.sandbox.simulation.clock import DAY_SECONDS
from integrations.sandbox.simulation.context import DayContext
from integrations.sandbox.simulation.state import AccountState

CAMPAIGN_MONTHS = (1, 4, 7, 10)
RESPONSE_RATE = 0.22
CAMPAIGN_DAYS = 14
NPS_COMMENTS = {
    "detractor": ("Too many bugs lately.", "Hard to get value for the price.",
                  "Support takes too long.", ""),
    "passive": ("Does the job.", "Good, but reporting could be better.", ""),
    "promoter": ("Our team relies on it every day.", "Great product and great support!", ""),
}
CES_COMMENTS = {
    "hard": ("Had to explain the issue twice.", "Took several emails to get an answer.", ""),
    "neutral": ("", "OK in the end."),
    "easy": ("Easy, thanks.", "Quick and painless.", ""),
}


def _band(score: int) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def campaign(ctx: DayContext) -> None:
    """On the first day of a quarter, invite every paying account's contacts to answer NPS."""
    if ctx.day.day != 1 or ctx.day.month not in CAMPAIGN_MONTHS:
        return
    arrays, n = ctx.state.arrays, ctx.state.arrays.n
    answering = ctx.draws.binomial(arrays.contacts[:n], RESPONSE_RATE) * arrays.paying[:n]
    for idx in np.flatnonzero(answering):
        account = ctx.state.accounts[idx]
        for contact in ctx.rng.sample(account.contacts, min(int(answering[idx]),
                                                            len(account.contacts))):
            when = ctx.business_time() + ctx.rng.randrange(CAMPAIGN_DAYS) * DAY_SECONDS
            ctx.schedule(account, when, "nps", contact["key"])


def _contact(account: AccountState, contact_key: int) -> dict | None:
    return next((c for c in account.contacts if c["key"] == contact_key), None)


def _response(ctx: DayContext, account: AccountState, contact: dict, survey: str, score: int,
              comment: str, when: float, extra: dict[str, str]) -> None:
    key = ctx.state.next_key("survey_response")
    low, high = (0, 10) if survey == "nps" else (1, 7)
    record = {
        "key": key, "id": ctx.ids.survey_response(key), "account_key": account.key,
        "contact_key": contact["key"], "workspace_id": account.record["workspace_id"],
        "email": contact["email"], "survey": survey, "score": score, "scale_min": low,
        "scale_max": high, "comment": comment, "submitted_at": when, "updated_at": when,
        "extra": extra,
    }
    ctx.emit(SURVEY_RESPONSE, record, when)


def nps_response(ctx: DayContext, account: AccountState, when: float, contact_key: int) -> None:
    """A contact answers this quarter's NPS survey (if still at the company)."""
    contact = _contact(account, contact_key)
    if contact is None:
        return
    arrays = ctx.state.arrays
    health = dynamics.account_health(arrays, account.idx)
    bias = -0.4 if contact["role"] == "decision_maker" else 0.0
    score = int(min(10, max(0, round(10.5 * health + 1.0 + bias + ctx.rng.gauss(0, 1.3)))))
    arrays.nps[account.idx] = score
    day = ctx.day
    extra = {"campaign": f"nps-{day.year}-q{(day.month - 1) // 3 + 1}", "role": contact["role"]}
    _response(ctx, account, contact, "nps", score,
              ctx.rng.choice(NPS_COMMENTS[_band(score)]), when, extra)


def ces_response(ctx: DayContext, account: AccountState, when: float, ticket_id: int,
                 requester_id: int, hours: float, reopens: int, replies: int) -> None:
    """The requester of a solved ticket answers "how easy was it to get help?" (1–7)."""
    contact = next((c for c in account.contacts if c["zendesk_user_id"] == requester_id), None)
    if contact is None:
        return
    health = dynamics.account_health(ctx.state.arrays, account.idx)
    effort = 5.6 - 0.5 * max(0, replies - 2) - 1.0 * reopens - 0.5 * math.log1p(hours / 24)
    score = int(min(7, max(1, round(effort + 1.5 * (health - 0.6) + ctx.rng.gauss(0, 0.9)))))
    mood = "hard" if score <= 3 else "easy" if score >= 5 else "neutral"
    _response(ctx, account, contact, "ces", score, ctx.rng.choice(CES_COMMENTS[mood]), when,
              {"ticket_id": str(ticket_id)})
