"""HubSpot CRM v3 endpoints, page sizes, the search cap and the incremental contracts.

Everything a reviewer needs to check the connector against HubSpot's documentation sits here
as constants; the paging code reads `SEARCH_RESULT_CAP` at call time (as
`settings.SEARCH_RESULT_CAP`) so a test can lower it and exercise the cap without 10,000
records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dlt.common.schema.typing import TColumnSchema

from integrations.contracts import Contract

SOURCE = "hubspot"

# -- endpoints --------------------------------------------------------------------------------
SEARCH_PATH = "/crm/v3/objects/{object_type}/search"
LIST_PATH = "/crm/v3/objects/{object_type}"
OWNERS_PATH = "/crm/v3/owners"
ASSOCIATIONS_READ_PATH = "/crm/v4/associations/{from_type}/{to_type}/batch/read"

# -- limits HubSpot publishes -----------------------------------------------------------------
SEARCH_PAGE_SIZE = 200          # the search endpoint's maximum `limit`
LIST_PAGE_SIZE = 100            # the list endpoints' maximum `limit`
OWNERS_PAGE_SIZE = 500          # the owners endpoint's maximum `limit`
ASSOCIATIONS_BATCH_SIZE = 1000  # inputs per v4 associations batch read
SEARCH_RESULT_CAP = 10_000      # a search returns at most this many results, whatever `total`

# -- incremental contracts --------------------------------------------------------------------
# HubSpot's time values are UTC ISO 8601 with milliseconds and a Z, so they order as text.
INITIAL_MODIFIED = "1970-01-01T00:00:00.000Z"
ID_PROPERTY = "hs_object_id"


def _text(nullable: bool = True) -> TColumnSchema:
    return {"data_type": "text", "nullable": nullable}


def _timestamp() -> TColumnSchema:
    return {"data_type": "timestamp", "nullable": True}


@dataclass(frozen=True)
class ObjectSpec:
    """One CRM object type as the connector pulls it.

    `columns` declares the type of every contract field that may be null on every record of
    a load (a new portal, an unused custom property): without it dlt would not create the
    column, and a staging model selecting it would break on the first run.
    """

    object_type: str
    modified_property: str
    properties: tuple[str, ...]
    contract: Contract
    columns: Mapping[str, TColumnSchema] = field(default_factory=dict)

    @property
    def cursor_path(self) -> str:
        """The record path of the modification time the search filters on."""
        return f"properties.{self.modified_property}"

    @property
    def cursor_column(self) -> str:
        return f"properties__{self.modified_property}"


COMPANIES = ObjectSpec(
    object_type="companies",
    modified_property="hs_lastmodifieddate",
    properties=("name", "domain", "industry", "numberofemployees", "country",
                "hubspot_owner_id", "lifecyclestage", "createdate", "hs_lastmodifieddate",
                "csp_stripe_customer_id", "csp_workspace_id", "csp_segment",
                "csp_renewal_date", "csp_plan", "csp_seats"),
    contract=Contract(SOURCE, "companies", required={
        "id": "string",
        "properties.hs_lastmodifieddate": "string",
        "properties.name": ("string", "null"),
        "properties.domain": ("string", "null"),
        "properties.industry": ("string", "null"),
        "properties.hubspot_owner_id": ("string", "null"),
        "properties.lifecyclestage": ("string", "null"),
        "properties.csp_stripe_customer_id": ("string", "null"),
        "properties.csp_workspace_id": ("string", "null"),
        "properties.csp_segment": ("string", "null"),
        "properties.csp_renewal_date": ("string", "null"),
    }),
    columns={name: _text() for name in (
        "properties__name", "properties__domain", "properties__industry",
        "properties__hubspot_owner_id", "properties__lifecyclestage",
        "properties__csp_stripe_customer_id", "properties__csp_workspace_id",
        "properties__csp_segment", "properties__csp_renewal_date", "properties__csp_plan",
        "properties__csp_seats")},
)

CONTACTS = ObjectSpec(
    object_type="contacts",
    modified_property="lastmodifieddate",
    properties=("email", "firstname", "lastname", "jobtitle", "csp_contact_role",
                "associatedcompanyid", "notes_last_contacted", "createdate",
                "lastmodifieddate"),
    contract=Contract(SOURCE, "contacts", required={
        "id": "string",
        "properties.lastmodifieddate": "string",
        "properties.email": ("string", "null"),
        "properties.csp_contact_role": ("string", "null"),
        "properties.associatedcompanyid": ("string", "null"),
        "properties.notes_last_contacted": ("string", "null"),
    }),
    columns={"properties__email": _text(), "properties__csp_contact_role": _text(),
             "properties__associatedcompanyid": _text(), "properties__jobtitle": _text(),
             "properties__notes_last_contacted": _timestamp()},
)

DEALS = ObjectSpec(
    object_type="deals",
    modified_property="hs_lastmodifieddate",
    properties=("dealname", "amount", "dealstage", "closedate", "dealtype", "pipeline",
                "csp_deal_kind", "hubspot_owner_id", "createdate", "hs_lastmodifieddate"),
    contract=Contract(SOURCE, "deals", required={
        "id": "string",
        "properties.hs_lastmodifieddate": "string",
        "properties.amount": ("string", "null"),
        "properties.dealstage": ("string", "null"),
        "properties.closedate": ("string", "null"),
        "properties.dealtype": ("string", "null"),
        "properties.hubspot_owner_id": ("string", "null"),
    }),
    columns={"properties__amount": _text(), "properties__dealstage": _text(),
             "properties__closedate": _timestamp(), "properties__dealtype": _text(),
             "properties__hubspot_owner_id": _text(), "properties__csp_deal_kind": _text()},
)

OBJECTS = (COMPANIES, CONTACTS, DEALS)

OWNERS_CURSOR = "updatedAt"
OWNERS_CURSOR_COLUMN = "updated_at"        # as dlt names the column
OWNERS_CONTRACT = Contract(SOURCE, "owners", required={
    "id": "string", "email": ("string", "null"), "updatedAt": "string"})
OWNERS_COLUMNS: Mapping[str, TColumnSchema] = {"email": _text()}

# Archived (deleted) records come from the list endpoints, which cannot filter by time; the
# time they were archived is their cursor.
ARCHIVED_CURSOR = "archivedAt"

# -- associations -----------------------------------------------------------------------------
# The v4 batch read answers per input object: {"from": {"id"}, "to": [{"toObjectId", ...}]}.
ASSOCIATION_RESULT_CONTRACT_FIELDS: Mapping[str, str | tuple[str, ...]] = {
    "from.id": ("string", "integer"), "to": "array"}
ASSOCIATION_TARGET_CONTRACT_FIELDS: Mapping[str, str | tuple[str, ...]] = {
    "toObjectId": ("integer", "string"), "associationTypes": "array"}
ASSOCIATION_COLUMNS: Mapping[str, TColumnSchema] = {
    "from_id": _text(nullable=False), "to_id": _text(nullable=False),
    "is_primary": {"data_type": "bool", "nullable": True},
    "archived": {"data_type": "bool", "nullable": False},
}
PRIMARY_LABEL = "Primary"


@dataclass(frozen=True)
class AssociationSpec:
    """A company association table, fed by the pages of the object on its `to` side."""

    table: str
    to_type: str               # contacts | deals: the side whose changes the pages carry

    @property
    def result_contract(self) -> Contract:
        return Contract(SOURCE, self.table, required=ASSOCIATION_RESULT_CONTRACT_FIELDS)

    @property
    def target_contract(self) -> Contract:
        return Contract(SOURCE, self.table, required=ASSOCIATION_TARGET_CONTRACT_FIELDS)


COMPANY_CONTACTS = AssociationSpec("company_contacts", "contacts")
COMPANY_DEALS = AssociationSpec("company_deals", "deals")
