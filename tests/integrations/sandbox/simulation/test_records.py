"""Every emitted record honours the `domain` contract: keys, types, ids, times, references."""

from __future__ import annotations

import functools
import types
from collections import defaultdict
from datetime import timedelta
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

import numpy as np
import pytest

from integrations.sandbox import domain
from integrations.sandbox.simulation.catalog import (
    ACTIONS_PER_EVENT,
    FEATURES,
    HOME_FEATURE,
    PLAN_FEATURES,
    monthly_amount,
)
from integrations.sandbox.simulation.clock import day_start
from integrations.sandbox.simulation.usage import reported_events
from tests.integrations.sandbox.simulation.conftest import World

SCHEMAS: dict[str, Any] = {
    domain.CSM: domain.Csm, domain.ACCOUNT: domain.Account, domain.CONTACT: domain.Contact,
    domain.DEAL: domain.Deal, domain.PRICE: domain.Price, domain.COUPON: domain.Coupon,
    domain.SUBSCRIPTION: domain.Subscription, domain.INVOICE: domain.Invoice,
    domain.CHARGE: domain.Charge, domain.TICKET: domain.Ticket,
    domain.SURVEY_RESPONSE: domain.SurveyResponse,
}
TIME_FIELDS = ("created_at", "updated_at", "submitted_at", "first_reply_at", "solved_at",
               "paid_at", "left_at", "last_engaged_at", "canceled_at", "ended_at")


def type_errors(value: Any, annotation: Any, where: str) -> list[str]:
    """Why `value` does not match `annotation` (empty when it does)."""
    origin = get_origin(annotation)
    if is_typeddict(annotation):
        return typeddict_errors(value, annotation, where)
    if origin is Literal:
        return [] if value in get_args(annotation) else [f"{where}: {value!r} not allowed"]
    if origin in (Union, types.UnionType):
        options = [type_errors(value, arg, where) for arg in get_args(annotation)]
        return [] if any(not o for o in options) else [f"{where}: {value!r} matches no option"]
    if origin is list:
        if type(value) is not list:
            return [f"{where}: expected a list"]
        return [e for i, item in enumerate(value)
                for e in type_errors(item, get_args(annotation)[0], f"{where}[{i}]")]
    if origin is dict:
        if type(value) is not dict:
            return [f"{where}: expected a dict"]
        key_type, value_type = get_args(annotation)
        return [e for k, v in value.items() for e in
                type_errors(k, key_type, f"{where} key") + type_errors(v, value_type,
                                                                       f"{where}[{k}]")]
    if annotation is type(None):
        return [] if value is None else [f"{where}: expected None"]
    if annotation is float:
        return [] if type(value) in (float, int) else [f"{where}: {value!r} is not a number"]
    return [] if type(value) is annotation else [f"{where}: {value!r} is not {annotation}"]


@functools.cache
def hints_of(schema: Any) -> dict[str, Any]:
    return get_type_hints(schema)


def typeddict_errors(record: Any, schema: Any, where: str) -> list[str]:
    if type(record) is not dict:
        return [f"{where}: expected a dict"]
    hints = hints_of(schema)
    errors = [f"{where}: missing {k}" for k in schema.__required_keys__ - record.keys()]
    errors += [f"{where}: unexpected {k}" for k in record.keys() - hints.keys()]
    for name, value in record.items():
        if name in hints:
            errors += type_errors(value, hints[name], f"{where}.{name}")
    return errors


def test_every_record_matches_its_typeddict_exactly(small_world: World) -> None:
    records = small_world.writer.records
    assert set(records) == set(domain.KINDS)
    errors = [e for kind, items in records.items() for record in items
              for e in typeddict_errors(record, SCHEMAS[kind], f"{kind} {record.get('key')}")]
    assert errors == [], errors[:10]


def test_usage_rows_match_usage_day(small_world: World) -> None:
    rows = small_world.writer.usage
    assert rows
    errors = [e for row in rows[:20_000] for e in typeddict_errors(row, domain.UsageDay, "usage")]
    assert errors == [], errors[:10]
    for row in rows:
        available = PLAN_FEATURES[row["plan"]]
        assert set(row["feature_events"]) <= set(available)
        assert set(row["gated_attempts"]) <= set(FEATURES) - set(available)
        assert all(v > 0 for v in row["feature_events"].values())
        assert row["active_users"] >= 0 and row["limit_hits"] >= 0
        assert sum(row["feature_events"].values()) >= row["active_users"]


def test_interactions_round_up_to_events_and_every_active_user_gets_one() -> None:
    home, api = FEATURES.index(HOME_FEATURE), FEATURES.index("api")
    actions = np.zeros((3, len(FEATURES)), dtype=np.int64)
    actions[0, api] = 2 * ACTIONS_PER_EVENT + 1       # busy: three events, no top-up
    actions[1, api] = 1                               # a single click still shows
    events, blocked = reported_events(actions, np.array([0, ACTIONS_PER_EVENT + 1, 0]),
                                      np.array([2, 4, 0]))
    assert events[0, api] == 3 and events[0, home] == 0
    assert events[1, api] == 1 and events[1, home] == 3
    assert events[2].sum() == 0
    assert blocked.tolist() == [0, 2, 0]


ID_FIELDS = {
    domain.CSM: ("hubspot_owner_id", "salesforce_user_id", "slack_user_id", "zendesk_agent_id",
                 "email"),
    domain.ACCOUNT: ("hubspot_company_id", "salesforce_account_id", "stripe_customer_id",
                     "zendesk_organization_id", "workspace_id", "domain", "name"),
    domain.CONTACT: ("hubspot_contact_id", "salesforce_contact_id", "zendesk_user_id"),
    domain.DEAL: ("hubspot_deal_id", "salesforce_opportunity_id"),
    domain.PRICE: ("id",), domain.COUPON: ("id",), domain.SUBSCRIPTION: ("id",),
    domain.INVOICE: ("id", "number"), domain.CHARGE: ("id",), domain.TICKET: ("id",),
    domain.SURVEY_RESPONSE: ("id",),
}


@pytest.mark.parametrize("kind", sorted(ID_FIELDS))
def test_ids_are_stable_per_key_and_unique_per_kind(small_world: World, kind: str) -> None:
    for field in ID_FIELDS[kind]:
        by_key: dict[int, Any] = {}
        for record in small_world.writer.records[kind]:
            assert by_key.setdefault(record["key"], record[field]) == record[field], field
        assert len(set(by_key.values())) == len(by_key), f"{kind}.{field} repeats"


def test_nested_ids_are_unique(small_world: World) -> None:
    latest = small_world.writer.latest
    item_ids = [i["id"] for s in latest("subscription").values() for i in s["items"]]
    line_ids = [line["id"] for i in latest("invoice").values() for line in i["lines"]]
    rating_ids = [t["satisfaction"]["id"] for t in latest("ticket").values() if t["satisfaction"]]
    discount_ids = {d["id"]: d["coupon_id"] for s in small_world.writer.records["subscription"]
                    if (d := s["discount"])}
    for ids in (item_ids, line_ids, rating_ids):
        assert len(ids) == len(set(ids))
    assert discount_ids


def test_no_record_changes_after_the_clock_and_updates_only_move_forward(
        small_world: World) -> None:
    end = day_start(small_world.summary.clock + timedelta(days=1))
    last_update: dict[tuple[str, int], float] = {}
    for kind, records in small_world.writer.records.items():
        for record in records:
            for field in TIME_FIELDS:
                if record.get(field) is not None:
                    assert record[field] < end, (kind, record["key"], field)
                    assert float(record[field]).is_integer(), (kind, field, "whole seconds")
            changed = record.get("updated_at", record.get("created_at"))
            previous = last_update.get((kind, record["key"]), changed)
            assert changed >= previous, (kind, record["key"])
            last_update[(kind, record["key"])] = changed
            assert record.get("created_at", changed) <= changed


def test_references_point_at_emitted_records(small_world: World) -> None:
    latest = small_world.writer.latest
    accounts, contacts, csms = latest("account"), latest("contact"), latest("csm")
    prices = {p["id"] for p in latest("price").values()}
    coupons = {c["id"] for c in latest("coupon").values()}
    subscriptions = {s["id"] for s in latest("subscription").values()}
    invoices = {i["id"] for i in latest("invoice").values()}
    users = {c["zendesk_user_id"] for c in contacts.values()}
    agents = {c["zendesk_agent_id"] for c in csms.values()}
    for account in accounts.values():
        assert account["owner_key"] in csms and account["onboarding_owner_key"] in csms
        assert csms[account["onboarding_owner_key"]]["team"] == "onboarding"
    for record in [*contacts.values(), *latest("deal").values(), *latest("ticket").values()]:
        assert record["account_key"] in accounts
    for sub in latest("subscription").values():
        assert {i["price_id"] for i in sub["items"]} <= prices
        assert sub["discount"] is None or sub["discount"]["coupon_id"] in coupons
        assert sub["latest_invoice_id"] in invoices
        assert sub["customer_id"] == accounts[sub["account_key"]]["stripe_customer_id"]
    for invoice in latest("invoice").values():
        assert invoice["subscription_id"] in subscriptions
        assert {line["price_id"] for line in invoice["lines"]} <= prices
    for charge in latest("charge").values():
        assert charge["invoice_id"] in invoices
    for ticket in latest("ticket").values():
        assert ticket["requester_id"] in users
        assert ticket["assignee_id"] is None or ticket["assignee_id"] in agents
    for response in latest("survey_response").values():
        assert contacts[response["contact_key"]]["account_key"] == response["account_key"]


def test_every_record_reaches_the_writer_after_the_records_it_refers_to(
        small_world: World) -> None:
    """Renderers look up parents (a company before its contacts, a price before its items)."""
    seen: dict[str, set[Any]] = defaultdict(set)
    order = small_world.writer.order
    for kind, record in order:
        if kind in (domain.CONTACT, domain.DEAL, domain.TICKET, domain.SUBSCRIPTION,
                    domain.INVOICE, domain.CHARGE, domain.SURVEY_RESPONSE):
            assert record["account_key"] in seen[domain.ACCOUNT], (kind, record["key"])
        if kind == domain.ACCOUNT:
            assert record["owner_key"] in seen[domain.CSM]
        if kind == domain.SUBSCRIPTION:
            assert {i["price_id"] for i in record["items"]} <= seen["price_id"]
        if kind in (domain.INVOICE,):
            assert record["subscription_id"] in seen["subscription_id"]
        if kind == domain.CHARGE:
            assert record["invoice_id"] in seen["invoice_id"]
        if kind == domain.TICKET:
            assert record["requester_id"] in seen["zendesk_user_id"]
        seen[kind].add(record["key"])
        for field in ("id", "zendesk_user_id"):
            if field in record:
                seen[f"{kind}_{field}" if field == "id" else field].add(record[field])


def test_invoices_add_up_and_paid_invoices_have_a_successful_charge(small_world: World) -> None:
    charges = small_world.writer.latest("charge")
    succeeded = {c["id"] for c in charges.values() if c["status"] == "succeeded"}
    for invoice in small_world.writer.latest("invoice").values():
        assert invoice["subtotal"] == sum(line["amount"] for line in invoice["lines"])
        assert invoice["total_discount"] == sum(line["discount_amount"]
                                                for line in invoice["lines"])
        assert invoice["total"] == invoice["subtotal"] - invoice["total_discount"]
        assert invoice["amount_paid"] + invoice["amount_remaining"] == invoice["amount_due"]
        if invoice["status"] == "paid":
            assert invoice["paid_at"] is not None and invoice["amount_remaining"] == 0
            assert invoice["total"] == 0 or invoice["charge_id"] in succeeded


def test_tickets_move_through_their_lifecycle_in_order(small_world: World) -> None:
    rank = {"new": 0, "open": 1, "pending": 1, "solved": 2, "closed": 3}
    history: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ticket in small_world.writer.records["ticket"]:
        history[ticket["key"]].append(ticket)
    assert len(history) > 100
    for versions in history.values():
        assert versions[0]["status"] == "new" and versions[0]["first_reply_at"] is None
        assert [rank[v["status"]] for v in versions][-1] >= rank[versions[-1]["status"]]
        final = versions[-1]
        if final["status"] in ("solved", "closed"):
            assert final["created_at"] <= final["first_reply_at"] <= final["solved_at"]
            assert final["satisfaction"] is not None
        if final["status"] == "closed":
            assert versions[-2]["status"] == "solved"
        closed = [v for v in versions if v["status"] == "closed"]
        assert len(closed) <= 1


def test_month_end_mrr_is_derivable_from_subscription_history(small_world: World) -> None:
    """Rebuild MRR at the clock from the last emitted subscriptions alone."""
    latest = small_world.writer.latest
    prices = {p["id"]: p for p in latest("price").values()}
    coupons = {c["id"]: c for c in latest("coupon").values()}
    now = day_start(small_world.summary.clock + timedelta(days=1))
    total = 0.0
    for sub in latest("subscription").values():
        if sub["status"] == "canceled":
            continue
        item = sub["items"][0]
        amount = monthly_amount(prices[item["price_id"]], item["quantity"])
        discount = sub["discount"]
        if discount and (discount["end"] is None or discount["end"] > now):
            coupon = coupons[discount["coupon_id"]]
            if coupon["duration"] != "once" and coupon["percent_off"] is not None:
                amount *= 1 - coupon["percent_off"] / 100
            elif coupon["duration"] != "once":
                per_month = monthly_amount(prices[item["price_id"]], 1) / prices[
                    item["price_id"]]["unit_amount"]
                amount -= coupon["amount_off"] * per_month
        total += amount
    assert round(total) == small_world.summary.mrr_cents
    assert small_world.summary.paying == sum(
        1 for s in latest("subscription").values() if s["status"] != "canceled")
