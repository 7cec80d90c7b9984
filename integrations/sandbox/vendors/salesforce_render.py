"""Canonical records (see `domain`) rendered as Salesforce records, at world-write time.

A CSM becomes a User, an account an Account, a contact a Contact (deleted — in the recycle
bin, visible to `queryAll` only — once the person left), a deal an Opportunity. Records are
stored without `attributes` (added when served); `SystemModstamp` is the store's update time.
Picklists carry labels ("Decision Maker", "Closed Won") where HubSpot carries internal values,
so staging models must map each CRM's own vocabulary.
"""

from __future__ import annotations

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
from integrations.sandbox.vendors.salesforce_schema import VENDOR, datetime_text

ROLE_LABELS = {"decision_maker": "Decision Maker", "champion": "Champion",
               "end_user": "End User", "procurement": "Procurement"}
STAGE_NAMES = {"open": "Prospecting", "closed_won": "Closed Won", "closed_lost": "Closed Lost"}
OPPORTUNITY_TYPES = {"new_business": "New Business", "renewal": "Renewal",
                     "expansion": "Upsell"}


def render_user(csm: dict[str, Any], sink: Sink) -> None:
    """A CSM as a Salesforce User (users are deactivated, never deleted, in Salesforce)."""
    created = to_millis(csm["created_at"])
    user_id = csm["salesforce_user_id"]
    fields = {
        "Id": user_id, "Username": csm["email"], "Email": csm["email"],
        "FirstName": csm["first_name"], "LastName": csm["last_name"],
        "Name": f"{csm['first_name']} {csm['last_name']}", "IsActive": True,
        "Title": "Customer Success Manager", **_stamps(created, created),
    }
    sink.upsert(_record("User", fields, created, created))
    remember_key(sink, VENDOR, CSM, csm["key"], user_id)


def render_account(account: dict[str, Any], sink: Sink) -> None:
    """An account as an Account with the project's custom fields."""
    account_id = account["salesforce_account_id"]
    owner_id = lookup_key(sink, VENDOR, CSM, account["owner_key"],
                          wanted_by=f"account {account['key']}")
    created = to_millis(account["created_at"])
    previous = sink.previous(VENDOR, "Account", account_id)
    stored = parse_millis(previous["SystemModstamp"]) if previous else None
    updated = not_before(stored, to_millis(account["updated_at"]))
    fields = {
        "Id": account_id, "IsDeleted": False, "Name": account["name"],
        "Type": "Customer" if account["lifecycle_stage"] == "customer" else "Former Customer",
        # Salesforce's Website is free text; people type the www. host, not the bare domain.
        "Website": f"www.{account['domain']}",
        "Industry": account["industry"], "NumberOfEmployees": account["employees"],
        "BillingCountry": account["country"], "OwnerId": owner_id,
        "Stripe_Customer_Id__c": (account["stripe_customer_id"]
                                  if account["stripe_id_in_crm"] else None),
        "Workspace_Id__c": account["workspace_id"], "Segment__c": account["segment"],
        "Renewal_Date__c": account["renewal_date"], "Plan__c": account["plan"] or None,
        "Seats__c": float(account["seats"]),
        **_stamps(created, updated),
    }
    written_by_connectors = {name: value for name, value in (previous or {}).items()
                             if name not in fields}
    sink.upsert(_record("Account", {**fields, **written_by_connectors}, created, updated))
    remember_key(sink, VENDOR, ACCOUNT, account["key"], account_id)


def render_contact(contact: dict[str, Any], sink: Sink) -> None:
    """A contact; deleted (IsDeleted true) once the person left the company."""
    account_id = lookup_key(sink, VENDOR, ACCOUNT, contact["account_key"],
                            wanted_by=f"contact {contact['key']}")
    created, updated = to_millis(contact["created_at"]), to_millis(contact["updated_at"])
    engaged = contact["last_engaged_at"]
    deleted = contact["left_at"] is not None
    fields = {
        "Id": contact["salesforce_contact_id"], "IsDeleted": deleted, "AccountId": account_id,
        "FirstName": contact["first_name"], "LastName": contact["last_name"],
        "Name": f"{contact['first_name']} {contact['last_name']}", "Email": contact["email"],
        "Title": contact["title"], "CS_Role__c": ROLE_LABELS[contact["role"]],
        "LastActivityDate": _day(engaged) if engaged is not None else None,
        **_stamps(created, updated),
    }
    sink.upsert(_record("Contact", fields, created, updated, deleted=deleted))


def render_opportunity(deal: dict[str, Any], sink: Sink) -> None:
    """A deal as an Opportunity."""
    account_id = lookup_key(sink, VENDOR, ACCOUNT, deal["account_key"],
                            wanted_by=f"deal {deal['key']}")
    owner_id = lookup_key(sink, VENDOR, CSM, deal["owner_key"], wanted_by=f"deal {deal['key']}")
    created, updated = to_millis(deal["created_at"]), to_millis(deal["updated_at"])
    fields = {
        "Id": deal["salesforce_opportunity_id"], "IsDeleted": False, "AccountId": account_id,
        "Name": deal["name"], "Amount": deal["amount"] / 100,
        "StageName": STAGE_NAMES[deal["stage"]], "CloseDate": deal["close_date"],
        "Type": OPPORTUNITY_TYPES[deal["deal_type"]], "IsClosed": deal["stage"] != "open",
        "IsWon": deal["stage"] == "closed_won", "OwnerId": owner_id,
        **_stamps(created, updated),
    }
    sink.upsert(_record("Opportunity", fields, created, updated))


def _stamps(created: int, updated: int) -> dict[str, str]:
    return {"CreatedDate": datetime_text(created), "LastModifiedDate": datetime_text(updated),
            "SystemModstamp": datetime_text(updated)}


def _record(sobject_name: str, fields: dict[str, Any], created: int, updated: int, *,
            deleted: bool = False) -> VendorObject:
    return VendorObject(VENDOR, sobject_name, fields["Id"], from_millis(created),
                        from_millis(updated), fields, deleted=deleted)


def _day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).date().isoformat()

