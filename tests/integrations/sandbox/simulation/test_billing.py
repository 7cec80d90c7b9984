"""Billing arithmetic that the generated history relies on."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.sandbox.simulation.billing import period_containing
from integrations.sandbox.simulation.clock import DAY_SECONDS, boundary
from tests.integrations.sandbox.simulation.conftest import World

TERMS = [("month", 1), ("year", 1), ("month", 3), ("week", 1)]


@settings(max_examples=300, deadline=None)
@given(term=st.sampled_from(TERMS), anchor=st.integers(1_400_000_000, 1_800_000_000),
       elapsed=st.integers(0, 8 * 365 * DAY_SECONDS))
def test_period_containing_finds_the_period_around_any_time(term: tuple[str, int], anchor: int,
                                                             elapsed: int) -> None:
    interval, count = term
    price = {"interval": interval, "interval_count": count}
    index, (start, end) = period_containing(price, float(anchor), float(anchor + elapsed))
    assert start <= anchor + elapsed < end
    assert (start, end) == (boundary(anchor, interval, count, index),
                            boundary(anchor, interval, count, index + 1))


def test_mid_period_changes_are_invoiced_as_prorations(small_world: World) -> None:
    invoices = small_world.writer.latest("invoice").values()
    updates = [i for i in invoices if i["billing_reason"] == "subscription_update"]
    assert updates
    for invoice in updates:
        unused, remaining = invoice["lines"]
        assert unused["proration"] and remaining["proration"]
        assert unused["amount"] < 0 < remaining["amount"] + unused["amount"]
        assert unused["period_end"] == remaining["period_end"] == invoice["period_end"]
        assert unused["description"].startswith("Unused time on")


def test_period_invoices_charge_seats_times_the_price(small_world: World) -> None:
    prices = {p["id"]: p for p in small_world.writer.latest("price").values()}
    cycles = [i for i in small_world.writer.latest("invoice").values()
              if i["billing_reason"] in ("subscription_create", "subscription_cycle")]
    assert len(cycles) > 500
    for invoice in cycles:
        (line,) = invoice["lines"]
        assert line["amount"] == prices[line["price_id"]]["unit_amount"] * line["quantity"]
        assert not line["proration"]
        assert (line["period_start"], line["period_end"]) == (invoice["period_start"],
                                                              invoice["period_end"])
