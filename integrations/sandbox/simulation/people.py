"""People: the CS team (CSMs, onboarding owners, the CS lead) and each account's contacts.

Contacts leave their companies at random (a champion leaving is a health shock, and the
account's mean health stays lower until someone replaces them; replacement happens only
sometimes). CSMs reach out to key contacts; when a contact answers, `last_engaged_at` moves
and health lifts a little. Healthier accounts answer more often, and CSMs reach out more to
accounts whose usage looks weak, which is what real CS teams do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from integrations.sandbox.domain import CONTACT, CSM
from integrations.sandbox.simulation import dynamics
from integrations.sandbox.simulation.clock import DAY_SECONDS, ordinal_of
from integrations.sandbox.simulation.context import DayContext
from integrations.sandbox.simulation.names import TITLES, email_local_part, person_name
from integrations.sandbox.simulation.presets import PROFILES, SEGMENTS, csm_headcount
from integrations.sandbox.simulation.state import AccountState, WorldState

COMPANY_DOMAIN = "lumenmetrics.io"
"""The simulated SaaS vendor itself: its CS team's mailboxes."""
TEAM_ORDER = ("lead", "enterprise", "mid_market", "smb", "onboarding")
YEARLY_DEPARTURE_RATE = 0.28
"""Share of a company's contacts who leave it within a year."""
REPLACEMENT_CHANCE = {"champion": 0.6, "decision_maker": 0.85, "procurement": 0.7,
                      "end_user": 0.5}
KEY_ROLES = ("champion", "decision_maker")


def build_team(ctx: DayContext) -> None:
    """Hire the CS team sized for the company; they all predate the simulated history."""
    state, rng = ctx.state, ctx.rng
    used: set[str] = set()
    for team in TEAM_ORDER:
        for _ in range(csm_headcount(state.accounts_target)[team]):
            key = state.next_key("csm")
            first, last = person_name(rng)
            local = email_local_part(first, last)
            email = f"{local}@{COMPANY_DOMAIN}" if local not in used else \
                f"{local}{key}@{COMPANY_DOMAIN}"
            used.add(local)
            created_at = ctx.start_ts - rng.randrange(30, 1500) * DAY_SECONDS
            record: dict[str, Any] = {
                "key": key, "first_name": first, "last_name": last, "email": email,
                "team": team, "created_at": created_at,
                "hubspot_owner_id": ctx.ids.hubspot("owner", key),
                "salesforce_user_id": ctx.ids.salesforce("005", key),
                "slack_user_id": ctx.ids.slack_user(key),
                "zendesk_agent_id": ctx.ids.zendesk("agent", key),
            }
            state.csms[key] = record
            state.teams.setdefault(team, []).append(key)
            state.csm_load[key] = 0
            ctx.emit(CSM, record, created_at)


def assign_csm(state: WorldState, team: str) -> int:
    """The least-loaded member of `team` (ties to the longest-serving), now one account busier."""
    key = min(state.teams[team], key=lambda k: (state.csm_load[k], k))
    state.csm_load[key] += 1
    return key


def support_agent(ctx: DayContext, account: AccountState) -> int:
    """The Zendesk agent who answers the account: its own CSM, or the tech-touch pool for SMB."""
    state = ctx.state
    if account.record["segment"] == "smb":
        return state.csms[ctx.rng.choice(state.teams["smb"])]["zendesk_agent_id"]
    return state.csms[account.record["owner_key"]]["zendesk_agent_id"]


def add_contact(ctx: DayContext, account: AccountState, role: str, ts: float,
                created_at: float | None = None, engaged_at: float | None = None,
                ) -> dict[str, Any]:
    """Create a contact of `account` in `role` and emit it at `ts`.

    `created_at` may lie earlier (people entered in the CRM during the sales cycle) but the
    record only reaches the systems at `ts`, so that is its `updated_at`.
    """
    state, rng = ctx.state, ctx.rng
    key = state.next_key("contact")
    first, last = person_name(rng)
    local = email_local_part(first, last)
    if any(c["email"].startswith(local + "@") for c in account.contacts):
        local = f"{local}{key}"
    contact: dict[str, Any] = {
        "key": key, "account_key": account.key, "first_name": first, "last_name": last,
        "email": f"{local}@{account.record['domain']}", "title": rng.choice(TITLES[role]),
        "role": role, "created_at": ts if created_at is None else created_at,
        "updated_at": max(ts, engaged_at or ts),
        "last_engaged_at": engaged_at, "left_at": None,
        "hubspot_contact_id": ctx.ids.hubspot("contact", key),
        "salesforce_contact_id": ctx.ids.salesforce("003", key),
        "zendesk_user_id": ctx.ids.zendesk("user", key),
    }
    account.contacts.append(contact)
    arrays = state.arrays
    arrays.contacts[account.idx] += 1
    arrays.champions[account.idx] += role == "champion"
    if engaged_at is not None:
        arrays.last_engaged[account.idx] = max(arrays.last_engaged[account.idx],
                                               ordinal_of(engaged_at))
    ctx.emit(CONTACT, contact, contact["updated_at"])
    return contact


def add_roster(ctx: DayContext, account: AccountState, ts: float, created_at: float,
               engaged_before: float | None = None) -> None:
    """The people a new customer brings: decision maker, champion(s), procurement, users.

    They are known since `created_at` and emitted at `ts`. `engaged_before` (for customers
    older than the history) gives key contacts a last engagement some weeks before it.
    """
    profile = PROFILES[account.record["segment"]]
    roles = ["decision_maker"] + ["champion"] * profile.champions
    roles += ["procurement"] if profile.procurement else []
    roles += ["end_user"] * ctx.rng.randint(*profile.end_users)
    for role in roles:
        engaged = None
        if engaged_before is not None and role in KEY_ROLES:
            engaged = engaged_before - ctx.rng.randrange(1, 120) * DAY_SECONDS
        add_contact(ctx, account, role, ts, created_at, engaged)


def departures(ctx: DayContext) -> None:
    """Contacts leaving their companies today (one binomial draw per account)."""
    arrays, n = ctx.state.arrays, ctx.state.arrays.n
    daily = 1 - (1 - YEARLY_DEPARTURE_RATE) ** (1 / 365)
    leaving = ctx.draws.binomial(arrays.contacts[:n], daily) * arrays.settled(ctx.ordinal)
    for idx in np.flatnonzero(leaving):
        account = ctx.state.accounts[idx]
        for _ in range(min(int(leaving[idx]), len(account.contacts))):
            _leave(ctx, account, ctx.rng.choice(account.contacts))


def _leave(ctx: DayContext, account: AccountState, contact: dict[str, Any]) -> None:
    ts = max(ctx.business_time(), contact["updated_at"])
    gone = {**contact, "left_at": ts, "updated_at": ts}
    ctx.emit(CONTACT, gone, ts)
    account.contacts.remove(contact)
    arrays, role = ctx.state.arrays, contact["role"]
    arrays.contacts[account.idx] -= 1
    if role == "champion":
        arrays.champions[account.idx] -= 1
        if arrays.champions[account.idx] == 0 and arrays.paying[account.idx]:
            dynamics.shock(arrays, account.idx, -dynamics.CHAMPION_LOSS_SHOCK)
    if ctx.rng.random() < REPLACEMENT_CHANCE[role]:
        ctx.schedule(account, ts + ctx.rng.uniform(20, 120) * DAY_SECONDS, "hire", role)


def hire(ctx: DayContext, account: AccountState, when: float, role: str) -> None:
    """A replacement joins (only customers tell their vendor about new staff)."""
    if ctx.state.arrays.paying[account.idx]:
        add_contact(ctx, account, role, when)


def outreach(ctx: DayContext) -> None:
    """CSM touches today: segment cadence, more for weak-looking accounts, weekdays only."""
    if ctx.day.weekday() >= 5:
        return
    arrays, n = ctx.state.arrays, ctx.state.arrays.n
    cadence = np.array([PROFILES[s].csm_touches_per_month for s in SEGMENTS])
    weak = 1.0 - dynamics.health(arrays.x[:n])
    chance = cadence[arrays.segment[:n]] / 21.0 * (0.6 + 1.6 * weak)
    reached = arrays.paying[:n] & arrays.settled(ctx.ordinal) & (ctx.draws.random(n) < chance)
    for idx in np.flatnonzero(reached):
        _touch(ctx, ctx.state.accounts[idx])


def _touch(ctx: DayContext, account: AccountState) -> None:
    arrays = ctx.state.arrays
    answers = 0.45 + 0.45 * dynamics.account_health(arrays, account.idx)
    if not account.contacts or ctx.rng.random() >= answers:
        return
    keys = [c for c in account.contacts if c["role"] in KEY_ROLES] or account.contacts
    ts = ctx.business_time()
    for contact in ctx.rng.sample(keys, min(len(keys), ctx.rng.choice((1, 1, 2)))):
        position = account.contacts.index(contact)
        touched = {**contact, "last_engaged_at": ts, "updated_at": max(ts, contact["updated_at"])}
        account.contacts[position] = touched
        ctx.emit(CONTACT, touched, touched["updated_at"])
    arrays.last_engaged[account.idx] = ctx.ordinal
    dynamics.shock(arrays, account.idx, dynamics.ENGAGEMENT_LIFT)
