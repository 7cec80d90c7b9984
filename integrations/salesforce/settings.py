"""Salesforce REST endpoints, API version, batch sizes and the incremental contracts.

Each object is read with SOQL through `queryAll` (so deleted records — `IsDeleted = true`, in
the recycle bin — arrive too) on `SystemModstamp`, the system timestamp that moves on every
change, including ones made by automation that leave `LastModifiedDate` alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dlt.common.schema.typing import TColumnSchema

from integrations.contracts import Contract

SOURCE = "salesforce"

API_VERSION = "v59.0"
TOKEN_PATH = "/services/oauth2/token"
QUERY_ALL_PATH = f"/services/data/{API_VERSION}/queryAll"
QUERY_OPTIONS_HEADER = "Sforce-Query-Options"
BATCH_SIZE = 2000                 # records per query batch; Salesforce allows 200..2,000
MIN_BATCH_SIZE, MAX_BATCH_SIZE = 200, 2000
INVALID_SESSION = "INVALID_SESSION_ID"

CURSOR_FIELD = "SystemModstamp"
# Salesforce writes datetimes as `2024-03-01T10:00:00.000+0000`: fixed width, one zone, so
# they order as text; SOQL literals are written in UTC with a Z (`soql_datetime`).
INITIAL_MODSTAMP = "1970-01-01T00:00:00.000+0000"
SYSTEM_FIELDS = ("Id", "CreatedDate", "LastModifiedDate", "SystemModstamp")


def _column(data_type: str) -> TColumnSchema:
    return {"data_type": data_type, "nullable": True}  # type: ignore[typeddict-item]


@dataclass(frozen=True)
class SObjectSpec:
    """One sObject as the connector pulls it: the fields selected and the fields relied on.

    `columns` declares the type of every contract field that may be null on every record of
    a load (no account has a Stripe id yet), so dlt still creates the column. Keys are the
    field names as Salesforce sends them; dlt normalizes hints and data alike
    (`Stripe_Customer_Id__c` -> `stripe_customer_id__c`).
    """

    sobject: str
    table: str
    fields: tuple[str, ...]
    contract: Contract
    columns: Mapping[str, TColumnSchema] = field(default_factory=dict)

    @property
    def select_list(self) -> str:
        return ", ".join((*SYSTEM_FIELDS, *self.fields))


ACCOUNT = SObjectSpec(
    sobject="Account",
    table="accounts",
    fields=("IsDeleted", "Name", "Type", "Website", "Industry", "NumberOfEmployees",
            "BillingCountry", "OwnerId", "Stripe_Customer_Id__c", "Workspace_Id__c",
            "Segment__c", "Renewal_Date__c", "Plan__c", "Seats__c"),
    contract=Contract(SOURCE, "accounts", required={
        "Id": "string",
        "SystemModstamp": "string",
        "IsDeleted": "boolean",
        "Name": "string",
        "Website": ("string", "null"),
        "Industry": ("string", "null"),
        "Type": ("string", "null"),
        "OwnerId": ("string", "null"),
        "Stripe_Customer_Id__c": ("string", "null"),
        "Workspace_Id__c": ("string", "null"),
        "Renewal_Date__c": ("string", "null"),
    }),
    columns={"Website": _column("text"), "Industry": _column("text"), "Type": _column("text"),
             "OwnerId": _column("text"),
             "Stripe_Customer_Id__c": _column("text"), "Workspace_Id__c": _column("text"),
             "Segment__c": _column("text"), "Renewal_Date__c": _column("text"),
             "Plan__c": _column("text"), "Seats__c": _column("double")},
)

CONTACT = SObjectSpec(
    sobject="Contact",
    table="contacts",
    fields=("IsDeleted", "AccountId", "FirstName", "LastName", "Name", "Email", "Title",
            "CS_Role__c", "LastActivityDate"),
    contract=Contract(SOURCE, "contacts", required={
        "Id": "string",
        "SystemModstamp": "string",
        "IsDeleted": "boolean",
        "AccountId": ("string", "null"),
        "Email": ("string", "null"),
        "CS_Role__c": ("string", "null"),
        "LastActivityDate": ("string", "null"),
    }),
    columns={"AccountId": _column("text"), "Email": _column("text"),
             "CS_Role__c": _column("text"), "LastActivityDate": _column("text")},
)

OPPORTUNITY = SObjectSpec(
    sobject="Opportunity",
    table="opportunities",
    fields=("IsDeleted", "AccountId", "Name", "Amount", "StageName", "CloseDate", "Type",
            "IsClosed", "IsWon", "OwnerId"),
    contract=Contract(SOURCE, "opportunities", required={
        "Id": "string",
        "SystemModstamp": "string",
        "IsDeleted": "boolean",
        "AccountId": ("string", "null"),
        "Amount": ("number", "null"),
        "StageName": "string",
        "CloseDate": ("string", "null"),
        "Type": ("string", "null"),
    }),
    columns={"AccountId": _column("text"), "Amount": _column("double"),
             "CloseDate": _column("text"), "Type": _column("text")},
)

# Users are deactivated (IsActive), never deleted: the object has no IsDeleted field.
USER = SObjectSpec(
    sobject="User",
    table="users",
    fields=("Username", "Email", "FirstName", "LastName", "Name", "IsActive", "Title"),
    contract=Contract(SOURCE, "users", required={
        "Id": "string",
        "SystemModstamp": "string",
        "Email": ("string", "null"),
        "IsActive": "boolean",
    }),
    columns={"Email": _column("text")},
)

SOBJECTS = (ACCOUNT, CONTACT, OPPORTUNITY, USER)
