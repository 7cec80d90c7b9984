"""Canonical records of the simulated company: the one contract between generator and vendors.

The generator knows nothing of vendors; it emits these records whenever something changes
(a full new state each time, never a diff). Each vendor module registers renderers that turn
a record into that vendor's own objects (a company becomes a HubSpot company, a Salesforce
Account and a Zendesk organization). Fixtures of vendor-shaped JSON bypass this layer.

Conventions: times are POSIX seconds (float, UTC); days are ISO dates (`YYYY-MM-DD`); money
is in integer minor units (cents) as Stripe counts it; every record carries a stable `key`.
The hidden churn risk is *not* here: it lives only in the store's `truth` table, which no
vendor route ever reads.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

Segment = Literal["enterprise", "mid_market", "smb"]
ContactRole = Literal["decision_maker", "champion", "end_user", "procurement"]
TicketCategory = Literal["how_to", "bug", "feature_request", "advisory"]

# Canonical kind names, as passed to `WorldWriter.put`. `KINDS` is in dependency order: a
# record may refer only to records of its own or an earlier kind already put (a contact's
# account, a subscription's prices), so within a day the generator puts kinds in this order.
CSM = "csm"
ACCOUNT = "account"
CONTACT = "contact"
DEAL = "deal"
PRICE = "price"
COUPON = "coupon"
SUBSCRIPTION = "subscription"
INVOICE = "invoice"
CHARGE = "charge"
TICKET = "ticket"
SURVEY_RESPONSE = "survey_response"
KINDS = (CSM, ACCOUNT, CONTACT, DEAL, PRICE, COUPON, SUBSCRIPTION, INVOICE, CHARGE, TICKET,
         SURVEY_RESPONSE)


class Csm(TypedDict):
    """A customer success manager, onboarding owner or CS lead: a CRM owner and a Slack user."""

    key: int
    first_name: str
    last_name: str
    email: str
    team: Literal["enterprise", "mid_market", "smb", "onboarding", "lead"]
    created_at: float
    hubspot_owner_id: str          # numeric string, e.g. "52550153"
    salesforce_user_id: str        # 18 chars, "005…"
    slack_user_id: str             # "U…"
    zendesk_agent_id: int


class Account(TypedDict):
    """A customer (or former customer) company, as the CRM knows it.

    Identity keys are deliberately imperfect: `stripe_id_in_crm` False means the CRM lacks the
    Stripe customer id (matching must fall back to domain); `zendesk_external_id` None means the
    Zendesk organization has no external id; `billing_domain` may differ from `domain`.
    """

    key: int
    name: str
    domain: str
    billing_domain: str
    industry: str
    employees: int
    country: str
    segment: Segment
    owner_key: int                 # Csm.key of the account's CSM
    onboarding_owner_key: int
    lifecycle_stage: Literal["customer", "former_customer"]
    customer_since: str            # day of first paid subscription
    created_at: float
    updated_at: float
    workspace_id: str              # the product's id for the account ("ws_…")
    hubspot_company_id: str
    salesforce_account_id: str
    stripe_customer_id: str        # "cus_…"
    zendesk_organization_id: int
    stripe_id_in_crm: bool
    zendesk_external_id: str | None
    currency: str                  # ISO 4217 lower case, as Stripe writes it
    billing_email: str
    plan: str                      # current plan key (see PRICE), "" once churned
    seats: int                     # contracted seats (subscription quantity), 0 once churned
    renewal_date: str | None       # next renewal day, None when not paying


class Contact(TypedDict):
    """A person at an account; also a product user and a Zendesk end user."""

    key: int
    account_key: int
    first_name: str
    last_name: str
    email: str
    title: str
    role: ContactRole
    created_at: float
    updated_at: float
    last_engaged_at: float | None  # last meeting/email with the CSM
    left_at: float | None          # set when the person left the company (CRM archives them)
    hubspot_contact_id: str
    salesforce_contact_id: str
    zendesk_user_id: int


class Deal(TypedDict):
    """A CRM opportunity: the first sale, a renewal, or an expansion."""

    key: int
    account_key: int
    owner_key: int
    name: str
    deal_type: Literal["new_business", "renewal", "expansion"]
    stage: Literal["open", "closed_won", "closed_lost"]
    amount: int                    # cents, annualised contract value
    close_date: str
    created_at: float
    updated_at: float
    hubspot_deal_id: str
    salesforce_opportunity_id: str


class Price(TypedDict):
    """A plan price in the billing catalog (per seat)."""

    key: int
    id: str                        # "price_…"
    product_id: str                # "prod_…"
    product_name: str
    plan: str                      # "starter" | "growth" | "enterprise"
    unit_amount: int               # cents per seat per interval
    currency: str
    interval: Literal["day", "week", "month", "year"]
    interval_count: int
    created_at: float


class Coupon(TypedDict):
    """A discount that can be attached to a subscription."""

    key: int
    id: str
    name: str
    percent_off: float | None
    amount_off: int | None         # cents, when not a percentage
    currency: str | None
    duration: Literal["once", "repeating", "forever"]
    duration_in_months: int | None
    created_at: float


class SubscriptionItem(TypedDict):
    id: str                        # "si_…"
    price_id: str
    quantity: int
    created_at: float


class Discount(TypedDict):
    id: str                        # "di_…"
    coupon_id: str
    start: float
    end: float | None


class Subscription(TypedDict):
    """A Stripe subscription's full current state (each change re-emits the whole record)."""

    key: int
    id: str                        # "sub_…"
    account_key: int
    customer_id: str
    status: Literal["active", "past_due", "unpaid", "canceled", "trialing"]
    created_at: float
    updated_at: float
    start_date: float
    billing_cycle_anchor: float
    current_period_start: float
    current_period_end: float
    cancel_at_period_end: bool
    canceled_at: float | None
    ended_at: float | None
    items: list[SubscriptionItem]
    discount: Discount | None
    currency: str
    collection_method: Literal["charge_automatically", "send_invoice"]
    days_until_due: int | None
    latest_invoice_id: str | None


class InvoiceLine(TypedDict):
    id: str                        # "il_…"
    price_id: str
    quantity: int
    amount: int                    # cents, before discount
    discount_amount: int
    period_start: float
    period_end: float
    proration: bool
    description: str


class Invoice(TypedDict):
    """A Stripe invoice's full current state."""

    key: int
    id: str                        # "in_…"
    number: str
    account_key: int
    customer_id: str
    subscription_id: str | None
    status: Literal["draft", "open", "paid", "uncollectible", "void"]
    billing_reason: Literal["subscription_create", "subscription_cycle", "subscription_update",
                            "manual"]
    created_at: float
    updated_at: float
    period_start: float
    period_end: float
    due_date: float | None
    subtotal: int
    total_discount: int
    tax: int
    total: int
    amount_due: int
    amount_paid: int
    amount_remaining: int
    attempt_count: int
    next_payment_attempt: float | None
    paid_at: float | None
    currency: str
    charge_id: str | None
    lines: list[InvoiceLine]


class Charge(TypedDict):
    """One payment attempt on an invoice."""

    key: int
    id: str                        # "ch_…"
    account_key: int
    customer_id: str
    invoice_id: str
    amount: int
    currency: str
    status: Literal["succeeded", "failed"]
    failure_code: str | None       # e.g. "card_declined", "insufficient_funds", "expired_card"
    failure_message: str | None
    created_at: float


class SatisfactionRating(TypedDict):
    id: int
    score: Literal["good", "bad", "offered", "unoffered"]
    comment: str
    created_at: float
    updated_at: float


class Ticket(TypedDict):
    """A Zendesk ticket's full current state."""

    key: int
    id: int
    account_key: int
    organization_id: int
    requester_id: int              # Contact.zendesk_user_id
    assignee_id: int | None        # Csm.zendesk_agent_id of the support agent
    subject: str
    description: str
    category: TicketCategory
    ticket_type: Literal["question", "incident", "problem", "task"]
    priority: Literal["low", "normal", "high", "urgent"]
    status: Literal["new", "open", "pending", "solved", "closed"]
    escalated: bool
    tags: list[str]
    created_at: float
    updated_at: float
    first_reply_at: float | None
    solved_at: float | None
    reopens: int
    replies: int
    satisfaction: SatisfactionRating | None


class SurveyResponse(TypedDict):
    """An NPS (0–10, higher is better) or CES (1–7, higher means *less* effort) answer."""

    key: int
    id: str                        # "resp_…"
    account_key: int
    contact_key: int
    workspace_id: str
    email: str
    survey: Literal["nps", "ces"]
    score: int
    scale_min: int
    scale_max: int
    comment: str
    submitted_at: float
    updated_at: float
    extra: NotRequired[dict[str, str]]


class UsageDay(TypedDict):
    """One account's product usage on one day, from which the event files are rendered.

    Usage is stored summarised (one row per account per day) and expanded into individual
    events only when a partition file is served, so the `large` company fits on disk.
    """

    day: str
    account_key: int
    workspace_id: str
    active_users: int              # users 0..active_users-1 of the account's roster were active
    feature_events: dict[str, int] # feature -> events that day
    gated_attempts: dict[str, int] # premium feature -> attempts blocked by the plan
    limit_hits: int                # limit-hit events (blocked interactions, as events)
    plan: str
