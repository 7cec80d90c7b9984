"""Canonical records -> Zendesk Support objects (organizations, users, tickets, metrics, ratings).

Shapes follow Zendesk's API documentation (`/work/shared/vendor-specs/zendesk/*.json` holds
transcribed examples). Objects are stored with a path-only `url` (`/api/v2/tickets/1.json`);
the routes prefix the sandbox's base URL when serving, so links point at whichever host and
port the sandbox runs on. Times are whole-second ISO-8601 (`2024-03-01T10:00:00Z`).

The store row's `updated` column is the record's exact update time; it is what the cursor
exports order by, and the body's `updated_at` / `generated_timestamp` are derived from it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from integrations.sandbox import domain
from integrations.sandbox.store import Sink, VendorObject
from integrations.sandbox.vendors.zendesk_wire import iso_or_none, iso_utc

VENDOR = "zendesk"
TICKETS = "tickets"
USERS = "users"
ORGANIZATIONS = "organizations"
TICKET_METRICS = "ticket_metrics"
SATISFACTION_RATINGS = "satisfaction_ratings"
# Internal index (never served): account key -> organization id, because a Contact names its
# account by key while a Zendesk user must carry the organization's id.
ORG_BY_ACCOUNT = "_org_by_account"

SUPPORT_GROUP_ID = 360_000_000_101
ESCALATIONS_GROUP_ID = 360_000_000_102
CATEGORY_FIELD_ID = 360_000_000_201
BRAND_ID = 360_000_000_301
METRIC_ID_OFFSET = 900_000_000_000
SUPPORT_ADDRESS = "support@sandbox-csp.zendesk.com"
VIA_CHANNELS = ("email", "web", "email", "api")
BUSINESS_HOURS = (9, 17)           # Mon-Fri, UTC: the schedule business-minute metrics use


def _minutes(start: float | None, end: float | None) -> dict[str, int | None]:
    """Zendesk's {calendar, business} minute pair; nulls while the metric is not reached."""
    if start is None or end is None:
        return {"calendar": None, "business": None}
    return {"calendar": max(int((end - start) // 60), 0),
            "business": business_minutes(start, end)}


def business_minutes(start: float, end: float) -> int:
    """Minutes of [start, end) inside business hours (Mon-Fri, 09:00-17:00 UTC)."""
    if end <= start:
        return 0
    total = 0.0
    day = datetime.fromtimestamp(start, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    while day.timestamp() < end:
        if day.weekday() < 5:
            opens = (day + timedelta(hours=BUSINESS_HOURS[0])).timestamp()
            closes = (day + timedelta(hours=BUSINESS_HOURS[1])).timestamp()
            total += max(0.0, min(end, closes) - max(start, opens))
        day += timedelta(days=1)
    return int(total // 60)


def _put(sink: Sink, kind: str, object_id: int, created: float, updated: float,
         body: dict[str, Any]) -> None:
    """Store an object, its times truncated to the whole seconds its body states.

    The index columns then follow from the body alone, so an exported world (or a saved
    Zendesk export) reloads with the same order and the same cursors.
    """
    sink.upsert(VendorObject(VENDOR, kind, str(object_id), float(int(created)),
                             float(int(updated)), body))


def render_account(account: domain.Account, sink: Sink) -> None:
    """ACCOUNT -> organization (external_id may be null: identity matching must cope)."""
    org_id = account["zendesk_organization_id"]
    tags: list[str] = [account["segment"]]
    if account["lifecycle_stage"] == "former_customer":
        tags.append("former_customer")
    body = {
        "id": org_id,
        "url": f"/api/v2/organizations/{org_id}.json",
        "name": account["name"],
        "domain_names": [account["domain"]],
        "external_id": account["zendesk_external_id"],
        "details": "",
        "notes": "",
        "group_id": None,
        "shared_tickets": False,
        "shared_comments": False,
        "tags": tags,
        "organization_fields": {"segment": account["segment"],
                                "workspace_id": account["workspace_id"]},
        "created_at": iso_utc(account["created_at"]),
        "updated_at": iso_utc(account["updated_at"]),
        "deleted_at": None,
    }
    _put(sink, ORGANIZATIONS, org_id, account["created_at"], account["updated_at"], body)
    _put(sink, ORG_BY_ACCOUNT, account["key"], account["created_at"], account["created_at"],
         org_index_body(account["key"], org_id, account["created_at"]))


def org_index_body(account_key: int, org_id: int, created: float) -> dict[str, Any]:
    """The internal account -> organization index entry (exported and reloaded as is)."""
    return {"account_key": account_key, "organization_id": org_id, "created": int(created)}


def _user_body(user_id: int, name: str, email: str, created: float, updated: float,
               ) -> dict[str, Any]:
    """The fields every Zendesk user carries, agent or end user."""
    return {
        "id": user_id,
        "url": f"/api/v2/users/{user_id}.json",
        "name": name,
        "email": email,
        "created_at": iso_utc(created),
        "updated_at": iso_utc(updated),
        "time_zone": "UTC",
        "iana_time_zone": "Etc/UTC",
        "phone": None,
        "shared_phone_number": None,
        "photo": None,
        "locale_id": 1,
        "locale": "en-US",
        "verified": True,
        "external_id": None,
        "alias": None,
        "shared": False,
        "shared_agent": False,
        "last_login_at": None,
        "two_factor_auth_enabled": False,
        "signature": None,
        "details": "",
        "notes": "",
        "custom_role_id": None,
        "moderator": False,
        "only_private_comments": False,
        "suspended": False,
        "report_csv": False,
        "tags": [],
    }


def render_contact(contact: domain.Contact, sink: Sink) -> None:
    """CONTACT -> end user, inactive (`active: false`) once the person has left.

    The account must have been put first: a user without its organization would be a silent
    null in every mart that joins tickets to accounts through requesters.
    """
    index = sink.previous(VENDOR, ORG_BY_ACCOUNT, str(contact["account_key"]))
    if index is None:
        raise ValueError(f"contact {contact['key']} refers to account {contact['account_key']},"
                         f" which was not put before it")
    updated = max(contact["updated_at"], contact["left_at"] or 0.0)
    body = _user_body(contact["zendesk_user_id"],
                      f"{contact['first_name']} {contact['last_name']}", contact["email"],
                      contact["created_at"], updated)
    body.update({
        "role": "end-user",
        "role_type": None,
        "organization_id": index["organization_id"],
        "active": contact["left_at"] is None,
        "ticket_restriction": "requested",
        "restricted_agent": True,
        "default_group_id": None,
        "user_fields": {"contact_role": contact["role"], "title": contact["title"]},
    })
    _put(sink, USERS, contact["zendesk_user_id"], contact["created_at"], updated, body)


def render_csm(csm: domain.Csm, sink: Sink) -> None:
    """CSM -> agent (support agents assigned to tickets are CSM-team records too)."""
    body = _user_body(csm["zendesk_agent_id"], f"{csm['first_name']} {csm['last_name']}",
                      csm["email"], csm["created_at"], csm["created_at"])
    body.update({
        "role": "agent",
        "role_type": None,
        "organization_id": None,
        "active": True,
        "ticket_restriction": None,
        "restricted_agent": False,
        "default_group_id": SUPPORT_GROUP_ID,
        "user_fields": {"team": csm["team"]},
    })
    _put(sink, USERS, csm["zendesk_agent_id"], csm["created_at"], csm["created_at"], body)


def _ticket_tags(ticket: domain.Ticket) -> list[str]:
    """The record's tags plus the category tag and `escalated`, each once, in order."""
    wanted = [*ticket["tags"], ticket["category"], *(["escalated"] if ticket["escalated"] else [])]
    return list(dict.fromkeys(wanted))


def _ticket_rating(ticket: domain.Ticket) -> dict[str, Any]:
    """The rating summary embedded in a ticket: the state when none was ever offered."""
    rating = ticket["satisfaction"]
    if rating is None or rating["score"] == "unoffered":
        return {"score": "unoffered"}
    return {"score": rating["score"], "id": rating["id"], "comment": rating["comment"] or None}


def _group_id(ticket: domain.Ticket) -> int:
    return ESCALATIONS_GROUP_ID if ticket["escalated"] else SUPPORT_GROUP_ID


def ticket_body(ticket: domain.Ticket) -> dict[str, Any]:
    """A ticket as the Tickets API and the incremental export return it."""
    ticket_id = ticket["id"]
    category_field = [{"id": CATEGORY_FIELD_ID, "value": ticket["category"]}]
    return {
        "id": ticket_id,
        "url": f"/api/v2/tickets/{ticket_id}.json",
        "external_id": None,
        "type": ticket["ticket_type"],
        "subject": ticket["subject"],
        "raw_subject": ticket["subject"],
        "description": ticket["description"],
        "priority": ticket["priority"],
        "status": ticket["status"],
        "recipient": SUPPORT_ADDRESS,
        "requester_id": ticket["requester_id"],
        "submitter_id": ticket["requester_id"],
        "assignee_id": ticket["assignee_id"],
        "organization_id": ticket["organization_id"],
        "group_id": _group_id(ticket),
        "brand_id": BRAND_ID,
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "followup_ids": [],
        "sharing_agreement_ids": [],
        "forum_topic_id": None,
        "problem_id": None,
        "has_incidents": False,
        "is_public": True,
        "due_at": None,
        "tags": _ticket_tags(ticket),
        "custom_fields": category_field,
        "fields": [dict(field) for field in category_field],
        "satisfaction_rating": _ticket_rating(ticket),
        "allow_channelback": False,
        "allow_attachments": True,
        "from_messaging_channel": False,
        "created_at": iso_utc(ticket["created_at"]),
        "updated_at": iso_utc(ticket["updated_at"]),
        "via": {"channel": VIA_CHANNELS[ticket_id % len(VIA_CHANNELS)],
                "source": {"from": {}, "to": {}, "rel": None}},
        "generated_timestamp": int(ticket["updated_at"]),
    }


def metric_id(ticket_id: int) -> int:
    """The ticket metric's own id (Zendesk numbers metrics apart from their tickets)."""
    return METRIC_ID_OFFSET + ticket_id


def ticket_metric_body(ticket: domain.Ticket, previous: dict[str, Any] | None,
                       ) -> dict[str, Any]:
    """The ticket's metric object. Times a metric already reached are kept from `previous`.

    A reopened ticket keeps its first resolution time and initial assignment, as Zendesk
    does: those are facts of the ticket's history, which a full-state record no longer holds.
    """
    solved = ticket["solved_at"] if ticket["status"] in ("solved", "closed") else None
    created = ticket["created_at"]
    first_resolution = _minutes(created, solved)
    if previous and previous["first_resolution_time_in_minutes"]["calendar"] is not None:
        first_resolution = previous["first_resolution_time_in_minutes"]
    assigned = iso_or_none(created if ticket["assignee_id"] is not None else None)
    initially_assigned = (previous or {}).get("initially_assigned_at") or assigned
    stations = 1 + int(ticket["escalated"])
    full_resolution = _minutes(created, solved)
    mid = metric_id(ticket["id"])
    return {
        "id": mid,
        "url": f"/api/v2/ticket_metrics/{mid}.json",
        "ticket_id": ticket["id"],
        "group_stations": stations,
        "assignee_stations": stations if ticket["assignee_id"] is not None else 0,
        "reopens": ticket["reopens"],
        "replies": ticket["replies"],
        "assignee_updated_at": iso_or_none(ticket["first_reply_at"]),
        "requester_updated_at": iso_utc(created),
        "status_updated_at": iso_utc(ticket["updated_at"]),
        "initially_assigned_at": initially_assigned,
        "assigned_at": assigned,
        "solved_at": iso_or_none(solved),
        "latest_comment_added_at": iso_utc(ticket["updated_at"]),
        "reply_time_in_minutes": _minutes(created, ticket["first_reply_at"]),
        "first_resolution_time_in_minutes": first_resolution,
        "full_resolution_time_in_minutes": full_resolution,
        "agent_wait_time_in_minutes": {"calendar": 0, "business": 0},
        "requester_wait_time_in_minutes": full_resolution,
        "on_hold_time_in_minutes": {"calendar": 0, "business": 0},
        "created_at": iso_utc(created),
        "updated_at": iso_utc(ticket["updated_at"]),
    }


def rating_body(ticket: domain.Ticket, rating: domain.SatisfactionRating) -> dict[str, Any]:
    """A satisfaction rating as `/api/v2/satisfaction_ratings.json` lists it."""
    return {
        "id": rating["id"],
        "url": f"/api/v2/satisfaction_ratings/{rating['id']}.json",
        "assignee_id": ticket["assignee_id"],
        "group_id": _group_id(ticket),
        "requester_id": ticket["requester_id"],
        "ticket_id": ticket["id"],
        "organization_id": ticket["organization_id"],
        "score": rating["score"],
        "comment": rating["comment"] or None,
        "reason": "No reason provided" if rating["score"] == "bad" else None,
        "reason_code": 0 if rating["score"] == "bad" else None,
        "created_at": iso_utc(rating["created_at"]),
        "updated_at": iso_utc(rating["updated_at"]),
    }


def render_ticket(ticket: domain.Ticket, sink: Sink) -> None:
    """TICKET -> ticket + its ticket_metric + its satisfaction rating (once offered)."""
    created, updated = ticket["created_at"], ticket["updated_at"]
    _put(sink, TICKETS, ticket["id"], created, updated, ticket_body(ticket))
    mid = metric_id(ticket["id"])
    previous = sink.previous(VENDOR, TICKET_METRICS, str(mid))
    _put(sink, TICKET_METRICS, mid, created, updated, ticket_metric_body(ticket, previous))
    rating = ticket["satisfaction"]
    if rating is not None and rating["score"] != "unoffered":
        _put(sink, SATISFACTION_RATINGS, rating["id"], rating["created_at"],
             rating["updated_at"], rating_body(ticket, rating))
