"""Canonical records (see `domain`) rendered as HubSpot CRM objects, at world-write time.

A CSM becomes an owner, an account a company, a contact a contact (archived once the person
left), a deal a deal; contacts and deals are associated with their company in both
directions. Property values are strings or null, as HubSpot sends them. Properties a
connector wrote to a company (health scores) survive the generator's next version of it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from integrations.sandbox.domain import ACCOUNT, CSM
from integrations.sandbox.store import Sink, VendorObject
from integrations.sandbox.vendors.crm_store import (
    from_millis,
    lookup_key,
    not_before,
    parse_millis,
    remember_key,
    to_millis,
)
from integrations.sandbox.vendors.hubspot_objects import (
    COMPANIES,
    CONTACTS,
    DEALS,
    OWNERS,
    VENDOR,
    association_objects,
    iso,
)

TEAM_NAMES = {"enterprise": "Enterprise CS", "mid_market": "Mid-Market CS", "smb": "Scaled CS",
              "onboarding": "Onboarding", "lead": "CS Leadership"}
TEAM_IDS = {"enterprise": "7001", "mid_market": "7002", "smb": "7003", "onboarding": "7004",
            "lead": "7005"}
OWNER_USER_ID_BASE = 40_000_000   # owners' user ids differ from owner ids in HubSpot too
OPEN_STAGE_CONTRACT_DAYS = 30     # an open deal closing within this many days has a contract out
_DAY_MS = 86_400_000


def render_owner(csm: dict[str, Any], sink: Sink) -> None:
    """A CSM as a HubSpot owner (`/crm/v3/owners` shape)."""
    created = to_millis(csm["created_at"])
    owner_id = csm["hubspot_owner_id"]
    user_id = OWNER_USER_ID_BASE + csm["key"]
    body = {
        "id": owner_id, "email": csm["email"], "type": "PERSON",
        "firstName": csm["first_name"], "lastName": csm["last_name"],
        "userId": user_id, "userIdIncludingInactive": user_id,
        "createdAt": iso(created), "updatedAt": iso(created), "archived": False,
        "teams": [{"id": TEAM_IDS[csm["team"]], "name": TEAM_NAMES[csm["team"]],
                   "primary": True}],
    }
    sink.upsert(VendorObject(VENDOR, OWNERS, owner_id, from_millis(created),
                             from_millis(created), body))
    remember_key(sink, VENDOR, CSM, csm["key"], owner_id)


def render_company(account: dict[str, Any], sink: Sink) -> None:
    """An account as a HubSpot company with the project's `csp_*` custom properties."""
    company_id = account["hubspot_company_id"]
    owner_id = lookup_key(sink, VENDOR, CSM, account["owner_key"],
                          wanted_by=f"account {account['key']}")
    created = to_millis(account["created_at"])
    previous = sink.previous(VENDOR, COMPANIES, company_id)
    stored = parse_millis(previous["updatedAt"]) if previous else None
    updated = not_before(stored, to_millis(account["updated_at"]))
    properties = {
        "name": account["name"],
        "domain": account["domain"],
        "industry": industry_value(account["industry"]),
        "numberofemployees": str(account["employees"]),
        "country": account["country"],
        "hubspot_owner_id": owner_id,
        # "other" is HubSpot's own stage for a company that is no longer a customer.
        "lifecyclestage": "customer" if account["lifecycle_stage"] == "customer" else "other",
        "createdate": iso(created),
        "hs_lastmodifieddate": iso(updated),
        "hs_object_id": company_id,
        "csp_stripe_customer_id": (account["stripe_customer_id"]
                                   if account["stripe_id_in_crm"] else None),
        "csp_workspace_id": account["workspace_id"],
        "csp_segment": account["segment"],
        "csp_renewal_date": account["renewal_date"],
        "csp_plan": account["plan"] or None,
        "csp_seats": str(account["seats"]),
    }
    written_by_connectors = {name: value for name, value in
                             (previous or {}).get("properties", {}).items()
                             if name not in properties}
    body = {"id": company_id, "properties": {**written_by_connectors, **properties},
            "createdAt": iso(created), "updatedAt": iso(updated), "archived": False}
    sink.upsert(VendorObject(VENDOR, COMPANIES, company_id, from_millis(created),
                             from_millis(updated), body))
    remember_key(sink, VENDOR, ACCOUNT, account["key"], company_id)


def render_contact(contact: dict[str, Any], sink: Sink) -> None:
    """A contact; archived (with `archivedAt`) once the person left the company."""
    contact_id = contact["hubspot_contact_id"]
    company_id = lookup_key(sink, VENDOR, ACCOUNT, contact["account_key"],
                            wanted_by=f"contact {contact['key']}")
    created = to_millis(contact["created_at"])
    updated = to_millis(contact["updated_at"])
    engaged = contact["last_engaged_at"]
    properties = {
        "email": contact["email"],
        "firstname": contact["first_name"],
        "lastname": contact["last_name"],
        "jobtitle": contact["title"],
        "csp_contact_role": contact["role"],
        "associatedcompanyid": company_id,
        "notes_last_contacted": iso(to_millis(engaged)) if engaged is not None else None,
        "createdate": iso(created),
        "lastmodifieddate": iso(updated),
        "hs_object_id": contact_id,
    }
    archived = contact["left_at"] is not None
    body: dict[str, Any] = {"id": contact_id, "properties": properties,
                            "createdAt": iso(created), "updatedAt": iso(updated),
                            "archived": archived}
    if archived:
        body["archivedAt"] = iso(to_millis(contact["left_at"]))
    previous = sink.previous(VENDOR, CONTACTS, contact_id)
    old_company = previous["properties"].get("associatedcompanyid") if previous else None
    _associate_with_company(sink, CONTACTS, contact_id, company_id, archived, old_company)
    sink.upsert(VendorObject(VENDOR, CONTACTS, contact_id, from_millis(created),
                             from_millis(updated), body, deleted=archived))


def render_deal(deal: dict[str, Any], sink: Sink) -> None:
    """A deal in the default pipeline, associated with its company."""
    deal_id = deal["hubspot_deal_id"]
    company_id = lookup_key(sink, VENDOR, ACCOUNT, deal["account_key"],
                            wanted_by=f"deal {deal['key']}")
    owner_id = lookup_key(sink, VENDOR, CSM, deal["owner_key"], wanted_by=f"deal {deal['key']}")
    created = to_millis(deal["created_at"])
    updated = to_millis(deal["updated_at"])
    stage = deal_stage(deal["stage"], deal["close_date"], updated)
    close_ms = to_millis(_day_start(deal["close_date"]))
    properties = {
        "dealname": deal["name"],
        "amount": dollars(deal["amount"]),
        "dealstage": stage,
        # HubSpot leaves closedate empty until a deal is forecast to close.
        "closedate": None if stage == "appointmentscheduled" else iso(close_ms),
        "pipeline": "default",
        "dealtype": "newbusiness" if deal["deal_type"] == "new_business" else "existingbusiness",
        "csp_deal_kind": deal["deal_type"],
        "hubspot_owner_id": owner_id,
        "createdate": iso(created),
        "hs_lastmodifieddate": iso(updated),
        "hs_object_id": deal_id,
    }
    body = {"id": deal_id, "properties": properties, "createdAt": iso(created),
            "updatedAt": iso(updated), "archived": False}
    # A deal never changes account, so there is no old association to end.
    _associate_with_company(sink, DEALS, deal_id, company_id, archived=False)
    sink.upsert(VendorObject(VENDOR, DEALS, deal_id, from_millis(created), from_millis(updated),
                             body))


def deal_stage(stage: str, close_date: str, updated_ms: int) -> str:
    """HubSpot's default-pipeline stage for a canonical stage."""
    if stage == "closed_won":
        return "closedwon"
    if stage == "closed_lost":
        return "closedlost"
    days_left = (to_millis(_day_start(close_date)) - updated_ms) / _DAY_MS
    return "contractsent" if days_left <= OPEN_STAGE_CONTRACT_DAYS else "appointmentscheduled"


def dollars(cents: int) -> str:
    """An amount in cents as HubSpot's amount text: "1200" or "1200.5"."""
    whole, rest = divmod(cents, 100)
    return str(whole) if rest == 0 else f"{cents / 100:.2f}".rstrip("0")


def industry_value(industry: str) -> str:
    """HubSpot's internal value of an industry label: "Financial Services" -> FINANCIAL_SERVICES."""
    return re.sub(r"[^A-Z0-9]+", "_", industry.upper()).strip("_")


def _day_start(day: str) -> float:
    return datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()


def _associate_with_company(sink: Sink, kind: str, object_id: str, company_id: str,
                            archived: bool, old_company: str | None = None) -> None:
    """Associate an object with its company, ending the association with `old_company`."""
    if old_company is not None and old_company != company_id:
        for row in association_objects(kind, object_id, COMPANIES, old_company, archived=True):
            sink.upsert(row)
    for row in association_objects(kind, object_id, COMPANIES, company_id, archived=archived):
        sink.upsert(row)
