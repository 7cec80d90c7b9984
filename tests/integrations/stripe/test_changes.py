"""How events become object rows, and when the event feed has a gap: on canned payloads.

The objects are Stripe's own published examples for API 2023-08-16 (`fixtures3`), so the
contracts are checked against what Stripe documents, not only against the sandbox.
"""

from __future__ import annotations

import copy
import json
from typing import Any, cast

import pytest

from integrations.contracts import SchemaDriftError
from integrations.stripe import changes
from integrations.stripe.changes import EventFeed, event_row, listed_row
from integrations.stripe.client import StripeClient, StripeResponseError
from integrations.stripe.settings import KINDS_BY_NOUN, OBJECT_KINDS
from tests.vendor_specs import VENDOR_SPECS

PUBLISHED = json.loads((VENDOR_SPECS / "stripe" / "fixtures3-2023-08-16.json").read_text()
                       )["resources"]


def published(noun: str, **changes_: Any) -> dict[str, Any]:
    return {**copy.deepcopy(PUBLISHED[noun]), **changes_}


def event(event_type: str, obj: dict[str, Any], created: int = 1_700_000_000,
          event_id: str = "evt_1") -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": event_type, "created": created,
            "data": {"object": obj, "previous_attributes": {}}}


class FakeClient:
    """Answers the retention probe; counts how often it was asked."""

    def __init__(self, retained: bool) -> None:
        self.retained = retained
        self.probes: list[str] = []

    def event_retained(self, event_id: str) -> bool:
        self.probes.append(event_id)
        return self.retained


def feed(client: FakeClient | None = None) -> EventFeed:
    return EventFeed(cast(StripeClient, client or FakeClient(True)))


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The source state a resource would see, outside a pipeline."""
    source_state: dict[str, Any] = {}
    monkeypatch.setattr(changes.dlt.current, "source_state", lambda: source_state)
    return source_state


@pytest.mark.parametrize("kind", OBJECT_KINDS, ids=lambda kind: kind.table)
def test_published_stripe_objects_meet_the_contracts(kind: Any) -> None:
    assert kind.contract.problem(published(kind.noun)) is None


def test_an_event_writes_its_object_with_the_event_as_lineage() -> None:
    subscription = published("subscription")
    found = event_row(event("customer.subscription.updated", subscription))
    assert found is not None
    kind, row = found
    assert kind is KINDS_BY_NOUN["subscription"]
    assert row == {**subscription, "deleted": False, "_csp_event_created": 1_700_000_000,
                   "_csp_event_id": "evt_1"}
    assert subscription == published("subscription")        # the event keeps its payload


def test_an_ended_subscription_stays_canceled_not_deleted() -> None:
    ending = published("subscription", status="active")
    found = event_row(event("customer.subscription.deleted", ending))
    assert found is not None
    assert (found[1]["status"], found[1]["deleted"]) == ("canceled", False)


@pytest.mark.parametrize("event_type,noun", [("customer.deleted", "customer"),
                                             ("product.deleted", "product"),
                                             ("coupon.deleted", "coupon")])
def test_other_deletions_flag_the_object_and_keep_its_fields(event_type: str,
                                                             noun: str) -> None:
    found = event_row(event(event_type, published(noun)))
    assert found is not None
    kind, row = found
    assert kind.noun == noun and row["deleted"] is True
    assert row["id"] == PUBLISHED[noun]["id"] and row["created"] == PUBLISHED[noun]["created"]


@pytest.mark.parametrize("payload", [
    event("invoice.upcoming", {k: v for k, v in published("invoice").items() if k != "id"}),
    PUBLISHED["event"],                                 # plan.created: not a loaded kind
    event("customer.discount.created", published("discount")),
    {"quarantine_id": "q1", "table_name": "events", "reason": "missing required field"},
    "not an event",
], ids=["preview", "plan", "discount", "quarantine-row", "text"])
def test_events_that_are_not_states_of_loaded_objects_write_nothing(payload: Any) -> None:
    assert event_row(payload) is None


def test_a_listed_object_gets_the_same_columns_as_an_event_written_one() -> None:
    customer = published("customer")
    assert listed_row(customer) == {**customer, "deleted": False, "_csp_event_created": 0,
                                    "_csp_event_id": None}
    assert listed_row("garbage") == "garbage"         # left for the contract to quarantine


def test_each_object_is_written_once_per_run_in_its_newest_version() -> None:
    run = feed()
    newer = published("subscription", status="past_due")
    first_page = [event("customer.subscription.updated", newer, 300, "evt_3"),
                  event("customer.subscription.updated", published("subscription"), 200,
                        "evt_2"),
                  event("customer.updated", published("customer"), 100, "evt_1")]
    written = run.changes(first_page)
    assert {kind.table: [r["_csp_event_id"] for r in rows] for kind, rows in written.items()
            } == {"subscriptions": ["evt_3"], "customers": ["evt_1"]}
    older = [event("customer.subscription.created", published("subscription"), 50, "evt_0")]
    assert run.changes(older) == {}


def test_a_first_run_has_no_gap_to_fill(state: dict[str, Any]) -> None:
    client = FakeClient(retained=False)
    run = feed(client)
    assert run.refresh_reason(0) is None and run.refresh_reason(None) is None
    assert client.probes == []


def test_objects_loaded_without_any_event_are_refreshed(state: dict[str, Any]) -> None:
    reason = feed().refresh_reason(1_700_000_000)
    assert reason is not None and "no Stripe event has been loaded yet" in reason


def test_a_retained_last_event_means_no_gap_and_is_probed_once(state: dict[str, Any]) -> None:
    state["event_feed"] = {"id": "evt_last", "created": 1_700_000_000}
    client = FakeClient(retained=True)
    run = feed(client)
    run.begin()
    assert [run.refresh_reason(1_600_000_000) for _ in range(3)] == [None, None, None]
    assert client.probes == ["evt_last"]


def test_an_expired_last_event_names_itself_and_the_window(state: dict[str, Any]) -> None:
    state["event_feed"] = {"id": "evt_last", "created": 1_700_000_000}
    reason = feed(FakeClient(retained=False)).refresh_reason(1_600_000_000)
    assert reason == ("the newest event loaded before (evt_last, created 2023-11-14 22:13:20 "
                      "UTC) is no longer served: Stripe keeps events 30 days, so changes made "
                      "since may be missing from the event feed")


def test_the_verdict_is_taken_before_this_run_records_a_newer_event(
        state: dict[str, Any]) -> None:
    state["event_feed"] = {"id": "evt_old", "created": 1_600_000_000}
    client = FakeClient(retained=False)
    run = feed(client)
    run.begin()
    run.record_newest(["garbage", {"id": "evt_new"},
                       {"id": "evt_new", "created": 1_700_000_000}])
    assert state["event_feed"] == {"id": "evt_new", "created": 1_700_000_000}
    assert run.refresh_reason(1_500_000_000) is not None      # still about evt_old
    assert client.probes == ["evt_old"]


def test_a_source_object_serves_one_run(state: dict[str, Any]) -> None:
    run = feed()
    run.begin()
    with pytest.raises(RuntimeError, match="serves one run"):
        run.begin()


def test_a_body_that_is_not_a_list_fails_with_a_clean_line() -> None:
    with pytest.raises(StripeResponseError) as caught:
        StripeClient._envelope("/v1/customers", {"object": "customer"})
    assert str(caught.value) == ("stripe: GET /v1/customers failed (last: HTTP 200, the body "
                                 "is not a Stripe list (no 'data' array and 'has_more' flag))")


def test_a_page_whose_last_object_has_no_id_cannot_be_paged() -> None:
    with pytest.raises(SchemaDriftError) as caught:
        StripeClient._last_id([{"id": "cus_1"}, {"name": "no id"}], "customers")
    assert str(caught.value) == ("stripe.customers: field 'id' missing from the last record "
                                 "of a page, so the next page cannot be asked for")
