"""Stripe's write side: `POST /v1/customers/{id}` with Stripe's idempotency-key semantics.

A connector writes back (e.g. the CRM id into customer metadata) and retries after a dropped
connection with the same `Idempotency-Key`; Stripe then replays the first response instead
of applying the update twice, and refuses the key with different parameters. The update, its
`customer.updated` event and the stored key commit in one SQLite transaction, so a
connection dropped after the write still finds the key on retry.
"""

from __future__ import annotations

import secrets
import sqlite3
import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from integrations.sandbox.routing import Request
from integrations.sandbox.store import Sink, VendorObject
from integrations.sandbox.vendors.stripe_events import announce, save
from integrations.sandbox.vendors.stripe_objects import VENDOR
from integrations.sandbox.vendors.stripe_query import (
    StripeError,
    error_body,
    expand,
    present,
)

IDEMPOTENCY_KIND = "idempotency_keys"
IDEMPOTENCY_TTL = 24 * 3600
"""Stripe forgets an idempotency key after 24 hours."""
UPDATABLE_FIELDS = frozenset({"description", "email", "name", "phone"})
METADATA_KEYS_MAX, METADATA_KEY_LENGTH, METADATA_VALUE_LENGTH = 50, 40, 500

_REQUEST_ID_CHARS = string.ascii_letters + string.digits


def new_request_id() -> str:
    """A fresh `req_…` id, as Stripe puts in every response's Request-Id header."""
    return "req_" + "".join(secrets.choice(_REQUEST_ID_CHARS) for _ in range(14))


@dataclass
class CustomerUpdate:
    """The parameters of a customer update; an empty string unsets, as in Stripe."""

    fields: dict[str, str | None] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    clear_metadata: bool = False
    expand: list[str] = field(default_factory=list)

    def apply(self, customer: dict[str, Any]) -> dict[str, Any]:
        metadata = {} if self.clear_metadata else dict(customer["metadata"])
        for key, value in self.metadata.items():
            if value:
                metadata[key] = value
            else:
                metadata.pop(key, None)
        if len(metadata) > METADATA_KEYS_MAX:
            raise StripeError(f"Invalid metadata: cannot have more than {METADATA_KEYS_MAX} "
                              f"keys", param="metadata")
        return {**customer, **self.fields, "metadata": metadata}


def parse_customer_update(form: dict[str, list[str]]) -> CustomerUpdate:
    """Read the form body; unknown or malformed parameters are refused as Stripe does."""
    update = CustomerUpdate()
    for key, values in form.items():
        value = values[-1]
        if key in UPDATABLE_FIELDS:
            if key == "email" and value and "@" not in value:
                raise StripeError(f"Invalid email address: {value}", code="email_invalid",
                                  param="email")
            update.fields[key] = value or None
        elif key == "metadata" and value == "":
            update.clear_metadata = True
        elif key.startswith("metadata[") and key.endswith("]"):
            name = key[len("metadata["):-1]
            if not name or len(name) > METADATA_KEY_LENGTH:
                raise StripeError(f"Invalid metadata: keys must be 1 to {METADATA_KEY_LENGTH} "
                                  f"characters", param=key)
            if len(value) > METADATA_VALUE_LENGTH:
                raise StripeError(f"Invalid metadata: values must be at most "
                                  f"{METADATA_VALUE_LENGTH} characters", param=key)
            update.metadata[name] = value
        elif key == "expand" or key.startswith("expand["):
            update.expand.extend(values)
        else:
            raise StripeError(f"Received unknown parameter: {key}", code="parameter_unknown",
                              param=key)
    return update


@contextmanager
def immediate_transaction(conn: sqlite3.Connection) -> Iterator[Sink]:
    """One write transaction; SQLite's own lock serialises it with every other writer."""
    conn.execute("begin immediate")
    try:
        yield Sink(conn)
    except BaseException:
        conn.execute("rollback")
        raise
    conn.execute("commit")


@dataclass(frozen=True)
class Outcome:
    """What a write answered: status, body, its request id, and whether it is a replay."""

    status: int
    body: dict[str, Any]
    request_id: str
    replayed_from: str | None = None


def update_customer(request: Request, customer_id: str) -> Outcome:
    """Apply a customer update once per idempotency key; replay or refuse reused keys."""
    try:
        form = request.form()
    except UnicodeDecodeError:
        raise StripeError("The request body is not UTF-8 form data.") from None
    update = parse_customer_update(form)
    key = request.header("Idempotency-Key")
    if key is not None and not 0 < len(key) <= 255:
        raise StripeError("Idempotency keys must be 1 to 255 characters long.",
                          error_type="idempotency_error")
    request_id = new_request_id()
    fingerprint = [request.method, request.path, sorted(
        [k, v] for k, values in form.items() for v in values)]
    now = time.time()
    with immediate_transaction(request.world.conn) as sink:
        if key is not None and (earlier := _live_key(sink, key, now)) is not None:
            return _replay(earlier, key, fingerprint)
        status, body = _apply(request, sink, customer_id, update, now,
                              {"id": request_id, "idempotency_key": key})
        if key is not None:
            sink.upsert(VendorObject(VENDOR, IDEMPOTENCY_KIND, key, created=now, updated=now,
                                     body={"id": key, "created": int(now),
                                           "fingerprint": fingerprint, "status": status,
                                           "body": body, "request_id": request_id}))
    return Outcome(status, body, request_id)


def _live_key(sink: Sink, key: str, now: float) -> dict[str, Any] | None:
    stored = sink.previous(VENDOR, IDEMPOTENCY_KIND, key)
    if stored is None or now - stored["created"] > IDEMPOTENCY_TTL:
        return None
    return stored


def _replay(earlier: dict[str, Any], key: str, fingerprint: list[Any]) -> Outcome:
    if earlier["fingerprint"] != fingerprint:
        raise StripeError(
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request.", error_type="idempotency_error")
    return Outcome(earlier["status"], earlier["body"], new_request_id(),
                   replayed_from=earlier["request_id"])


def _apply(request: Request, sink: Sink, customer_id: str, update: CustomerUpdate, now: float,
           origin: dict[str, str | None]) -> tuple[int, dict[str, Any]]:
    customer = sink.previous(VENDOR, "customers", customer_id)
    if customer is None:
        return 404, error_body(f"No such customer: '{customer_id}'", code="resource_missing",
                               param="id")
    change = save(sink, "customers", update.apply(customer), updated=now)
    if change:
        announce(sink, change, ["customer.updated"], now, request=origin)
    current = change.current if change else customer
    return 200, expand(request, present(dict(current)), update.expand, in_list=False)
