"""Zendesk Support API v2 as this source uses it: endpoints, page sizes, start values, contracts.

Constants only, so a reviewer sees every wire-level choice of the source in one place. The
contracts list the fields the support marts read (`fct_support_quality`, the health score's
support component, identity resolution): losing one of them, or its type, must fail the run
instead of turning into NULLs in a mart.
"""

from __future__ import annotations

from dlt.common.schema.typing import TColumnSchema, TDataType

from integrations.contracts import Contract

VENDOR = "zendesk"
API_VERSION = "v2"
API_PREFIX = f"/api/{API_VERSION}"

# Cursor-based incremental exports: `?start_time=` once, then `?cursor=` until end_of_stream.
TICKETS_EXPORT_PATH = f"{API_PREFIX}/incremental/tickets/cursor.json"
USERS_EXPORT_PATH = f"{API_PREFIX}/incremental/users/cursor.json"
# Metrics side-loaded by the ticket export: the metrics of exactly the tickets that changed,
# in the same request (the ticket_metrics list endpoint has no change filter at all).
TICKETS_EXPORT_INCLUDE = "metric_sets"
# Time-based incremental export (Zendesk has no cursor-based one for organizations).
ORGANIZATIONS_EXPORT_PATH = f"{API_PREFIX}/incremental/organizations.json"
# Cursor pagination (`page[size]`, `page[after]`) filtered by `start_time` on the update time.
SATISFACTION_RATINGS_PATH = f"{API_PREFIX}/satisfaction_ratings.json"

EXPORT_PAGE_SIZE = 1000          # Zendesk's maximum `per_page` for incremental exports
EXPORT_PAGE_SIZE_MAX = 1000
LIST_PAGE_SIZE = 100             # Zendesk's maximum `page[size]` for cursor pagination
LIST_PAGE_SIZE_MAX = 100

# Where the very first run starts (Unix seconds): the whole history. Later runs resume from
# the state committed with the data (a cursor, or the last update time loaded).
INITIAL_START_TIME = 0
# Zendesk answers 422 to an export whose start_time is within the last minute of its clock
# (or in the future): nothing can be exported from there yet, which is not an error.
TOO_RECENT_STATUS = 422
TOO_RECENT_MARKER = "start_time"



def _nullable(**types: TDataType) -> dict[str, TColumnSchema]:
    return {name: {"data_type": data_type, "nullable": True} for name, data_type in types.items()}


# Nullable fields the marts read, declared so the raw table has them, typed, even while every
# record so far holds null (dlt creates no column for a field that was only ever null).
TICKETS_COLUMNS = _nullable(type="text", priority="text", requester_id="bigint",
                            organization_id="bigint")
TICKET_METRICS_COLUMNS = _nullable(reply_time_in_minutes__calendar="bigint",
                                   first_resolution_time_in_minutes__calendar="bigint",
                                   full_resolution_time_in_minutes__calendar="bigint",
                                   solved_at="timestamp")
USERS_COLUMNS = _nullable(email="text", organization_id="bigint")
ORGANIZATIONS_COLUMNS = _nullable(external_id="text", deleted_at="timestamp")
SATISFACTION_RATINGS_COLUMNS = _nullable(ticket_id="bigint", organization_id="bigint",
                                         comment="text")

TICKETS_CONTRACT = Contract(VENDOR, "tickets", required={
    "id": "integer",
    "status": "string",
    "type": ("string", "null"),
    "priority": ("string", "null"),
    "tags": "array",
    "custom_fields": "array",
    "requester_id": ("integer", "null"),
    "organization_id": ("integer", "null"),
    "created_at": "string",
    "updated_at": "string",
    "generated_timestamp": "integer",
})
TICKET_METRICS_CONTRACT = Contract(VENDOR, "ticket_metrics", required={
    "id": "integer",
    "ticket_id": "integer",
    "reply_time_in_minutes.calendar": ("integer", "null"),
    "first_resolution_time_in_minutes.calendar": ("integer", "null"),
    "full_resolution_time_in_minutes.calendar": ("integer", "null"),
    "reopens": "integer",
    "created_at": "string",
    "updated_at": "string",
})
USERS_CONTRACT = Contract(VENDOR, "users", required={
    "id": "integer",
    "email": ("string", "null"),
    "role": "string",
    "organization_id": ("integer", "null"),
    "created_at": "string",
    "updated_at": "string",
})
# external_id and domain_names are the identity keys that match an organization to the CRM
# company and the Stripe customer (DESIGN.md §4): explicit id first, domain second.
ORGANIZATIONS_CONTRACT = Contract(VENDOR, "organizations", required={
    "id": "integer",
    "name": "string",
    "external_id": ("string", "null"),
    "domain_names": "array",
    "created_at": "string",
    "updated_at": "string",
})
SATISFACTION_RATINGS_CONTRACT = Contract(VENDOR, "satisfaction_ratings", required={
    "id": "integer",
    "ticket_id": ("integer", "null"),
    "organization_id": ("integer", "null"),
    "score": "string",
    "created_at": "string",
    "updated_at": "string",
})
