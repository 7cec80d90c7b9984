"""Saving Stripe objects and announcing each change as a Stripe `event`.

Stripe's Events API is how connectors see history (a plan changed in March must show the old
price in February), so every stored change appends an event whose `data.object` is the new
object and, for `*.updated` events, `data.previous_attributes` holds the previous values of
the top-level fields that changed, exactly as Stripe reports them. Used by the renderers
(`stripe_render`) and by the write routes (`stripe`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.sandbox.store import Sink, VendorObject
from integrations.sandbox.vendors.stripe_objects import API_VERSION, VENDOR, derived_id


@dataclass(frozen=True)
class Change:
    """One stored change of a Stripe object: its previous version (None if new) and new one."""

    kind: str
    previous: dict[str, Any] | None
    current: dict[str, Any]

    @property
    def is_new(self) -> bool:
        return self.previous is None

    def previous_attributes(self) -> dict[str, Any]:
        """The previous values of the top-level fields that changed (null if newly set)."""
        old = self.previous or {}
        return {key: old.get(key) for key in sorted(old.keys() | self.current.keys())
                if old.get(key) != self.current.get(key)}


def save(sink: Sink, kind: str, body: dict[str, Any], *, updated: float) -> Change | None:
    """Upsert `body` as a Stripe object of `kind`; None (nothing stored) if it did not change.

    The index times are the integer seconds the body shows, so `created[gt]=` filters and
    cursors agree with what a client sees.
    """
    previous = sink.previous(VENDOR, kind, body["id"])
    if previous == body:
        return None
    sink.upsert(VendorObject(VENDOR, kind, body["id"], created=body["created"],
                             updated=int(updated), body=body))
    return Change(kind, previous, body)


def event_object(event_type: str, change: Change, at: float, seq: int,
                 request: dict[str, str | None] | None = None) -> dict[str, Any]:
    """The `event` announcing `change` at time `at`, the world's `seq`-th event.

    The id is derived from the event's number in the world's event stream (and the object
    and type, so ids look unrelated): unique like a real Stripe event id even when one
    object changes twice in a second to the same content, and the same for every run of a
    seed.
    """
    data: dict[str, Any] = {"object": change.current}
    if event_type.endswith(".updated") and not change.is_new:
        data["previous_attributes"] = change.previous_attributes()
    return {
        "id": derived_id("evt", seq, change.current["id"], event_type),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(at),
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": request or {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def announce(sink: Sink, change: Change, event_types: list[str], at: float,
             request: dict[str, str | None] | None = None) -> None:
    """Append one event per type in `event_types`, in order, all for the same change."""
    for event_type in event_types:
        event = event_object(event_type, change, at, sink.next_event_seq(), request)
        sink.append_event(VENDOR, event["id"], event_type, event["created"], event)


def created_or_updated(change: Change, noun: str) -> list[str]:
    """`<noun>.created` for a new object, else `<noun>.updated`."""
    return [f"{noun}.created" if change.is_new else f"{noun}.updated"]
