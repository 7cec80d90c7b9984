"""Stripe constants: API version, endpoints, page sizes and the contract of every raw table.

Pinned to API version 2023-08-16 because object shapes change between versions (in later
versions `current_period_start/end` moved from the subscription to its items); the marts are
written against this one. Every table's incremental contract (cursor, initial value, primary
key, write disposition) is stated here, in one place, and used by the resources in
`integrations.stripe`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dlt.common.schema.typing import TColumnSchema, TDataType, TWriteDisposition

from integrations.contracts import Contract

SOURCE = "stripe"
API_VERSION = "2023-08-16"
PAGE_SIZE = 100
"""Stripe's largest `limit`: fewest requests per record."""
LINES_PAGE_SIZE = 100
EVENT_RETENTION_DAYS = 30
"""Stripe keeps events this long; a cursor older than that has a gap only a refresh can fill."""

EVENTS_PATH = "/v1/events"
INVOICE_LINES_PATH = "/v1/invoices/{invoice_id}/lines"

# The incremental contract shared by every table (CONVENTIONS practice 9).
PRIMARY_KEY = "id"
CURSOR_FIELD = "created"
INITIAL_CREATED = 0
"""Unix time: a first run lists every object, and every event Stripe still keeps."""
OBJECT_DISPOSITION: TWriteDisposition = "merge"   # objects change: the latest version wins
EVENT_DISPOSITION: TWriteDisposition = "append"   # events never change once written

# Columns this connector adds to the objects (all other columns are Stripe's own).
EVENT_CREATED_COLUMN = "_csp_event_created"
"""`created` of the event whose `data.object` wrote the row; 0 when it came from a list."""
EVENT_ID_COLUMN = "_csp_event_id"
"""Id of the event whose `data.object` wrote the row; null when it came from a list."""
DELETED_COLUMN = "deleted"
"""True once a `*.deleted` event arrived (Stripe's own flag on deleted objects)."""

OBJECT_COLUMNS: list[TColumnSchema] = [
    # One load can hold an object twice (listed as new, and changed by an event): the event's
    # version wins. See `integrations.stripe.changes` for why that is the safe choice.
    {"name": EVENT_CREATED_COLUMN, "data_type": "bigint", "dedup_sort": "desc"},
    {"name": EVENT_ID_COLUMN, "data_type": "text"},
    {"name": DELETED_COLUMN, "data_type": "bool"},
]
EVENT_COLUMNS: list[TColumnSchema] = [
    # The payload of any object type: one JSON column, not hundreds of sparse ones. The
    # history models read `data.previous_attributes` from it.
    {"name": "data", "data_type": "json"},
    {"name": "object_id", "data_type": "text"},
    {"name": "object_type", "data_type": "text"},
]

SKIPPED_EVENT_TYPES = frozenset({"invoice.upcoming"})
"""Events whose `data.object` is a preview, not a state of a stored object (it has no id)."""
SUBSCRIPTION_DELETED_EVENT = "customer.subscription.deleted"
"""Stripe's name for a subscription ending: the subscription stays, with status canceled."""
CANCELED_STATUS = "canceled"
DELETED_EVENT_SUFFIX = ".deleted"


@dataclass(frozen=True, eq=False)
class ObjectKind:
    """One Stripe object type this source loads: its table, list route and contract.

    `required` is the contract (fields the marts cannot do without: a record lacking one is
    quarantined, a page lacking one fails the run). `nullable` types the columns the marts
    read that are often null: dlt creates a column only once it sees a value, and a mart must
    not break because no subscription of a young account was ever canceled.

    Compared and hashed by identity: each kind exists once, in `OBJECT_KINDS`.
    """

    table: str
    noun: str
    """The `object` field of its payloads (and of event `data.object`)."""
    required: Mapping[str, str | tuple[str, ...]]
    nullable: Mapping[str, TDataType] = field(default_factory=dict)
    list_params: Mapping[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"/v1/{self.table}"

    @property
    def contract(self) -> Contract:
        return Contract(SOURCE, self.table, self.required)

    def columns(self) -> list[TColumnSchema]:
        """The dlt column hints of its table."""
        typed: list[TColumnSchema] = [{"name": name, "data_type": data_type, "nullable": True}
                                      for name, data_type in self.nullable.items()]
        return [*OBJECT_COLUMNS, *typed]


_IDENTITY = {"id": "string", "created": "integer"}
_DISCOUNT: dict[str, TDataType] = {"discount__id": "text", "discount__coupon__id": "text",
             "discount__coupon__percent_off": "double", "discount__coupon__amount_off": "bigint",
             "discount__coupon__duration": "text", "discount__coupon__duration_in_months": "bigint",
             "discount__start": "bigint", "discount__end": "bigint"}
OBJECT_KINDS: tuple[ObjectKind, ...] = (
    ObjectKind("customers", "customer", {
        **_IDENTITY, "metadata": "object", "email": ("string", "null")},
        nullable={"email": "text", "name": "text", "currency": "text", "delinquent": "bool",
                  # identity keys: matched to the CRM and the product by these
                  "metadata__workspace_id": "text", "metadata__hubspot_company_id": "text",
                  "metadata__salesforce_account_id": "text"}),
    ObjectKind("subscriptions", "subscription", {
        **_IDENTITY, "customer": "string", "status": "string", "items.data": "array",
        "current_period_start": "integer", "current_period_end": "integer",
        "currency": "string"},
        nullable={"canceled_at": "bigint", "cancel_at": "bigint", "ended_at": "bigint",
                  "trial_start": "bigint", "trial_end": "bigint", "latest_invoice": "text",
                  "cancellation_details__reason": "text", **_DISCOUNT},
        # Stripe's default list hides canceled subscriptions; churn lives in them.
        list_params={"status": "all"}),
    ObjectKind("invoices", "invoice", {
        **_IDENTITY, "customer": ("string", "null"), "status": ("string", "null"),
        "total": "integer", "amount_due": "integer", "amount_paid": "integer",
        "currency": "string", "period_start": "integer", "period_end": "integer",
        "subscription": ("string", "null"), "lines.data": "array"},
        nullable={"subscription": "text", "charge": "text", "due_date": "bigint",
                  "tax": "bigint", "next_payment_attempt": "bigint",
                  "status_transitions__paid_at": "bigint", **_DISCOUNT}),
    ObjectKind("charges", "charge", {
        **_IDENTITY, "customer": ("string", "null"), "invoice": ("string", "null"),
        "amount": "integer", "currency": "string", "status": "string", "paid": "boolean"},
        nullable={"customer": "text", "invoice": "text", "failure_code": "text",
                  "failure_message": "text", "outcome__reason": "text"}),
    ObjectKind("prices", "price", {
        **_IDENTITY, "product": "string", "currency": "string", "type": "string",
        "unit_amount": ("integer", "null"), "recurring": ("object", "null")},
        nullable={"unit_amount": "bigint", "nickname": "text", "recurring__interval": "text",
                  "recurring__interval_count": "bigint"}),
    ObjectKind("products", "product", {**_IDENTITY, "name": "string"}),
    ObjectKind("coupons", "coupon", {
        **_IDENTITY, "duration": "string", "percent_off": ("number", "null"),
        "amount_off": ("integer", "null")},
        nullable={"percent_off": "double", "amount_off": "bigint", "currency": "text",
                  "duration_in_months": "bigint"}),
)
KINDS_BY_NOUN: Mapping[str, ObjectKind] = {kind.noun: kind for kind in OBJECT_KINDS}

EVENTS_CONTRACT = Contract(SOURCE, "events", {
    "id": "string", "type": "string", "created": "integer", "data.object": "object"})
