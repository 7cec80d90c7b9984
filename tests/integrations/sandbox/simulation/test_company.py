"""The simulated company looks like a B2B SaaS business: sizes, segments, money, people, life.

Each test reads the canonical records a recording writer received, so these are facts about
what the vendors will serve, not about the generator's internals.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any

from integrations.sandbox.simulation.catalog import discounted_monthly
from integrations.sandbox.simulation.clock import DAY_SECONDS, iso_day
from integrations.sandbox.simulation.presets import PROFILES, SIZES
from tests.integrations.sandbox.simulation.conftest import World


def first_versions(world: World, kind: str) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for record in world.writer.records[kind]:
        found.setdefault(record["key"], record)
    return found


def arr_by_segment(world: World) -> dict[str, list[float]]:
    """ARR in dollars of every live subscription at the clock, after recurring discounts."""
    latest = world.writer.latest
    accounts = latest("account")
    prices = {p["id"]: p for p in latest("price").values()}
    coupons = {c["id"]: c for c in latest("coupon").values()}
    found: dict[str, list[float]] = defaultdict(list)
    for sub in latest("subscription").values():
        if sub["status"] == "canceled":
            continue
        item = sub["items"][0]
        coupon = coupons[sub["discount"]["coupon_id"]] if sub["discount"] else None
        monthly = discounted_monthly(prices[item["price_id"]], item["quantity"], coupon)
        found[accounts[sub["account_key"]]["segment"]].append(12 * monthly / 100)
    return found


def test_accounts_ever_match_the_size_and_half_are_customers_at_the_start(
        small_world: World, causal_world: World) -> None:
    assert abs(small_world.summary.accounts_ever - SIZES["small"]) <= 0.15 * SIZES["small"]
    assert abs(causal_world.summary.accounts_ever - 1200) <= 0.08 * 1200
    start = small_world.summary.start.isoformat()
    since = [a["customer_since"] for a in first_versions(small_world, "account").values()]
    existing = sum(day < start for day in since)
    assert existing == SIZES["small"] // 2
    assert min(since) < str(small_world.summary.start.year - 3)


def test_segment_mix_is_mostly_smb_with_few_enterprises(causal_world: World) -> None:
    mix = Counter(a["segment"] for a in first_versions(causal_world, "account").values())
    total = sum(mix.values())
    assert abs(mix["enterprise"] / total - 0.05) < 0.025
    assert abs(mix["mid_market"] / total - 0.25) < 0.05
    assert abs(mix["smb"] / total - 0.70) < 0.05


def test_arr_spreads_by_segment(causal_world: World) -> None:
    arr = arr_by_segment(causal_world)
    assert min(arr["enterprise"]) >= 100_000
    assert statistics.median(arr["enterprise"]) > 150_000
    assert 15_000 < statistics.median(arr["mid_market"]) < 80_000
    assert statistics.median(arr["smb"]) < 8_000
    assert sorted(arr["smb"])[int(0.9 * len(arr["smb"]))] < 16_000


def test_cs_team_is_dedicated_pooled_and_tech_touch(causal_world: World) -> None:
    csms = causal_world.writer.latest("csm")
    teams = Counter(c["team"] for c in csms.values())
    assert teams["lead"] == 1 and teams["onboarding"] >= 1 and teams["smb"] >= 1
    assert teams["enterprise"] > teams["mid_market"] >= teams["smb"]
    books: dict[int, int] = Counter()
    for account in causal_world.writer.latest("account").values():
        assert csms[account["owner_key"]]["team"] == PROFILES[account["segment"]].csm_team
        books[account["owner_key"]] += 1
    enterprise_books = [n for key, n in books.items() if csms[key]["team"] == "enterprise"]
    assert max(enterprise_books) <= 20
    smb_books = [n for key, n in books.items() if csms[key]["team"] == "smb"]
    assert min(smb_books) > 100


def test_every_billing_term_and_coupon_kind_is_in_use(small_world: World,
                                                      causal_world: World) -> None:
    prices = {p["id"]: p for p in causal_world.writer.latest("price").values()}
    terms = Counter((prices[s["items"][0]["price_id"]]["interval"],
                     prices[s["items"][0]["price_id"]]["interval_count"])
                    for s in causal_world.writer.latest("subscription").values())
    assert {("month", 1), ("year", 1), ("month", 3), ("week", 1)} <= set(terms)
    assert terms[("week", 1)] < terms[("month", 3)] < terms[("year", 1)] < terms[("month", 1)]
    used = {s["discount"]["coupon_id"] for s in causal_world.writer.records["subscription"]
            if s["discount"]}
    coupons = causal_world.writer.latest("coupon")
    durations = {c["duration"] for c in coupons.values() if c["id"] in used}
    assert durations == {"once", "repeating", "forever"}
    assert "RETAIN20" in used
    assert {"charge_automatically", "send_invoice"} == {
        s["collection_method"] for s in small_world.writer.latest("subscription").values()}


def test_failed_payments_go_through_dunning_to_recovery_or_cancellation(
        causal_world: World) -> None:
    writer = causal_world.writer
    codes = Counter(c["failure_code"] for c in writer.records["charge"] if c["status"] == "failed")
    assert set(codes) == {"card_declined", "insufficient_funds", "expired_card"}
    statuses: dict[str, list[str]] = defaultdict(list)
    for sub in writer.records["subscription"]:
        if not statuses[sub["id"]] or statuses[sub["id"]][-1] != sub["status"]:
            statuses[sub["id"]].append(sub["status"])
    recovered = [s for s in statuses.values() if "past_due" in s and s[-1] == "active"]
    lost = [s for s in statuses.values() if s[-2:] == ["past_due", "canceled"]]
    assert len(recovered) >= 10 and len(lost) >= 10
    attempts: dict[str, list[float]] = defaultdict(list)
    for charge in writer.records["charge"]:
        attempts[charge["invoice_id"]].append(charge["created_at"])
    uncollectible = [i for i in writer.latest("invoice").values()
                     if i["status"] == "uncollectible"]
    assert uncollectible
    for invoice in uncollectible:
        tries = attempts[invoice["id"]]
        if len(tries) == 4:
            assert 13 * DAY_SECONDS <= tries[-1] - tries[0] <= 15 * DAY_SECONDS


def test_voluntary_cancellations_give_notice_then_end_at_the_period_end(
        causal_world: World) -> None:
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sub in causal_world.writer.records["subscription"]:
        history[sub["id"]].append(sub)
    voluntary = 0
    for versions in history.values():
        final = versions[-1]
        if final["status"] == "canceled" and final["cancel_at_period_end"]:
            voluntary += 1
            notice = next(v for v in versions if v["cancel_at_period_end"])
            assert notice["status"] != "canceled" and notice["canceled_at"] < final["ended_at"]
            if final["canceled_at"] == notice["canceled_at"]:
                assert final["ended_at"] == final["current_period_end"]
            else:
                assert final["ended_at"] == final["canceled_at"]  # dunning ran out first
    assert voluntary >= 50


def test_churned_accounts_sometimes_come_back(causal_world: World) -> None:
    subscriptions: dict[int, set[str]] = defaultdict(set)
    for sub in causal_world.writer.records["subscription"]:
        subscriptions[sub["account_key"]].add(sub["id"])
    returned = [key for key, ids in subscriptions.items() if len(ids) > 1]
    assert len(returned) >= 10
    deals = causal_world.writer.latest("deal").values()
    assert any("Win-back" in d["name"] and d["account_key"] in returned for d in deals)
    assert causal_world.summary.reactivated >= len(returned) - 5


def test_annual_renewals_open_120_days_ahead_and_close_at_the_period_end(
        causal_world: World) -> None:
    renewals = [d for d in causal_world.writer.latest("deal").values()
                if d["deal_type"] == "renewal" and d["stage"] != "open"]
    assert {"closed_won", "closed_lost"} <= {d["stage"] for d in renewals}
    lead_days = [(d["updated_at"] - d["created_at"]) / DAY_SECONDS for d in renewals]
    assert 100 <= statistics.median(lead_days) <= 125
    for deal in renewals:
        assert deal["close_date"] == iso_day(deal["updated_at"])


def test_contacts_leave_and_champions_are_sometimes_replaced(causal_world: World) -> None:
    contacts = causal_world.writer.latest("contact").values()
    left = [c for c in contacts if c["left_at"] is not None]
    assert len(left) > 100
    champions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for contact in contacts:
        if contact["role"] == "champion":
            champions[contact["account_key"]].append(contact)
    replaced = [k for k, cs in champions.items()
                if any(c["left_at"] for c in cs) and any(
                    c["created_at"] > min(x["left_at"] for x in cs if x["left_at"])
                    for c in cs)]
    assert len(replaced) >= 10
    engaged = [c for c in contacts if c["last_engaged_at"] is not None]
    assert {c["role"] for c in engaged} >= {"champion", "decision_maker"}
    assert Counter(c["role"] for c in contacts)["procurement"] > 0


def test_surveys_are_quarterly_nps_and_ces_after_solved_tickets(small_world: World) -> None:
    answers = small_world.writer.latest("survey_response").values()
    nps = [a for a in answers if a["survey"] == "nps"]
    ces = [a for a in answers if a["survey"] == "ces"]
    assert {iso_day(a["submitted_at"])[5:7] for a in nps} <= {"01", "04", "07", "10"}
    assert all(0 <= a["score"] <= 10 and (a["scale_min"], a["scale_max"]) == (0, 10)
               for a in nps)
    promoters = sum(a["score"] >= 9 for a in nps) / len(nps)
    detractors = sum(a["score"] <= 6 for a in nps) / len(nps)
    assert -20 < 100 * (promoters - detractors) < 70
    solved: dict[int, list[float]] = defaultdict(list)
    for ticket in small_world.writer.records["ticket"]:
        if ticket["status"] == "solved":
            solved[ticket["id"]].append(ticket["solved_at"])
    assert ces
    for answer in ces:
        assert 1 <= answer["score"] <= 7
        assert min(solved[int(answer["extra"]["ticket_id"])]) <= answer["submitted_at"]


def test_support_mix_and_satisfaction(causal_world: World) -> None:
    tickets = list(causal_world.writer.latest("ticket").values())
    categories = Counter(t["category"] for t in tickets)
    assert set(categories) == {"how_to", "bug", "feature_request", "advisory"}
    assert categories["how_to"] > categories["bug"] > categories["advisory"]
    assert any(t["escalated"] and "escalated" in t["tags"] for t in tickets)
    scores = Counter(t["satisfaction"]["score"] for t in tickets if t["satisfaction"])
    assert scores["good"] > scores["bad"] > 0 and scores["offered"] > 0
    assert any(t["reopens"] for t in tickets)


def test_usage_gates_premium_features_and_hits_plan_limits(causal_world: World) -> None:
    rows = causal_world.writer.usage
    gated = Counter(row["plan"] for row in rows if row["gated_attempts"])
    assert gated["starter"] > 0 and gated["enterprise"] == 0
    assert any(row["limit_hits"] for row in rows if row["plan"] != "enterprise")
    assert not any(row["limit_hits"] for row in rows if row["plan"] == "enterprise")
    day = rows[-1]["day"]
    used = {row["account_key"] for row in rows if row["day"] == day}
    subscriptions = causal_world.writer.latest("subscription").values()
    live = {s["account_key"] for s in subscriptions if s["status"] != "canceled"}
    ended_today = {s["account_key"] for s in subscriptions
                   if s["ended_at"] and iso_day(s["ended_at"]) == day}
    returned_today = {s["account_key"] for s in subscriptions
                      if s["status"] != "canceled" and iso_day(s["created_at"]) == day}
    assert live - returned_today <= used and used - live <= ended_today
