"""The Salesforce org the sandbox plays: its sObjects, their fields and types, ids and times.

One place says which fields exist (SOQL answers INVALID_FIELD for anything else), which a
connector may write, and which external-id field an upsert may use. Field names are
case-insensitive, as in Salesforce; `SObject.field` returns the canonical spelling. Custom
fields under the project's `CSP_` prefix exist on the objects connectors write to (Account,
Task), the way an installed package's fields would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from integrations.sandbox.vendors.crm_store import millis_datetime

VENDOR = "salesforce"
API_VERSION = "v59.0"
DATA_PATH = f"/services/data/{API_VERSION}"
CUSTOM_PREFIX = "csp_"            # lower-cased: names compare case-insensitively

ID, REFERENCE, STRING, BOOLEAN, DOUBLE, INT, DATE, DATETIME, ANY = (
    "id", "reference", "string", "boolean", "double", "int", "date", "datetime", "anyType")
# How Salesforce names each type in its SOQL error messages.
TYPE_LABELS = {ID: "id", REFERENCE: "reference", STRING: "string", BOOLEAN: "boolean",
               DOUBLE: "double", INT: "int", DATE: "date", DATETIME: "dateTime",
               ANY: "anyType"}
SYSTEM_FIELDS = {"Id": ID, "CreatedDate": DATETIME, "LastModifiedDate": DATETIME,
                 "SystemModstamp": DATETIME}


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id(prefix: str, number: int) -> str:
    """An 18-character id: key prefix, a base-62 number, and the case-safe checksum suffix."""
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _BASE62[rest] + digits
    short = prefix + digits.rjust(12, "0")
    if len(short) != 15:
        raise ValueError(f"id number too large for prefix {prefix}")
    return short + checksum(short)


def checksum(short_id: str) -> str:
    """The 3-character suffix that makes a 15-character id case-insensitively unique."""
    suffix = ""
    for start in range(0, 15, 5):
        chunk = short_id[start:start + 5]
        bits = sum(1 << index for index, char in enumerate(chunk) if char.isupper())
        suffix += _CHECKSUM_ALPHABET[bits]
    return suffix


# The connected app's run-as user: the default owner of what connectors create.
INTEGRATION_USER_ID = salesforce_id("005", 1)


@dataclass(frozen=True)
class SObject:
    """One sObject type: its fields (canonical name -> type) and what may be written."""

    name: str
    prefix: str
    fields: dict[str, str]
    writable: frozenset[str] = frozenset()
    external_ids: tuple[str, ...] = ()
    custom_namespace: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def _lookup(self) -> dict[str, str]:
        return {name.lower(): name for name in self.fields}

    def field(self, name: str) -> str | None:
        """The canonical spelling of a field name, or None if the object has no such field."""
        found = self._lookup.get(name.lower())
        if found is None and self.custom_namespace and _is_namespaced(name):
            return name
        return found

    def field_type(self, name: str) -> str:
        return self.fields.get(name, ANY)

    def is_writable(self, name: str) -> bool:
        return name in self.writable or (self.custom_namespace and _is_namespaced(name))

    @property
    def has_is_deleted(self) -> bool:
        return "IsDeleted" in self.fields


def _is_namespaced(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith(CUSTOM_PREFIX) and lowered.endswith("__c") and name.isascii()


def _sobject(name: str, prefix: str, fields: dict[str, str], writable: tuple[str, ...] = (),
             **options: Any) -> SObject:
    return SObject(name, prefix, {**SYSTEM_FIELDS, **fields}, frozenset(writable), **options)


SOBJECTS: dict[str, SObject] = {s.name: s for s in (
    _sobject("User", "005", {
        "Username": STRING, "Email": STRING, "FirstName": STRING, "LastName": STRING,
        "Name": STRING, "IsActive": BOOLEAN, "Title": STRING}),
    _sobject("Account", "001", {
        "IsDeleted": BOOLEAN, "Name": STRING, "Type": STRING, "Website": STRING,
        "Industry": STRING, "NumberOfEmployees": INT, "BillingCountry": STRING,
        "OwnerId": REFERENCE, "Stripe_Customer_Id__c": STRING, "Workspace_Id__c": STRING,
        "Segment__c": STRING, "Renewal_Date__c": DATE, "Plan__c": STRING, "Seats__c": DOUBLE},
        ("Name", "Type", "Website", "Industry", "NumberOfEmployees", "BillingCountry",
         "OwnerId", "Stripe_Customer_Id__c", "Workspace_Id__c", "Segment__c",
         "Renewal_Date__c", "Plan__c", "Seats__c"), custom_namespace=True),
    _sobject("Contact", "003", {
        "IsDeleted": BOOLEAN, "AccountId": REFERENCE, "FirstName": STRING,
        "LastName": STRING, "Name": STRING, "Email": STRING, "Title": STRING,
        "CS_Role__c": STRING, "LastActivityDate": DATE}),
    _sobject("Opportunity", "006", {
        "IsDeleted": BOOLEAN, "AccountId": REFERENCE, "Name": STRING, "Amount": DOUBLE,
        "StageName": STRING, "CloseDate": DATE, "Type": STRING, "IsClosed": BOOLEAN,
        "IsWon": BOOLEAN, "OwnerId": REFERENCE}),
    _sobject("Task", "00T", {
        "IsDeleted": BOOLEAN, "Subject": STRING, "Description": STRING,
        "ActivityDate": DATE, "Status": STRING, "Priority": STRING, "Type": STRING,
        "OwnerId": REFERENCE, "WhatId": REFERENCE, "WhoId": REFERENCE, "IsClosed": BOOLEAN,
        "CSP_Task_Key__c": STRING},
        ("Subject", "Description", "ActivityDate", "Status", "Priority", "Type", "OwnerId",
         "WhatId", "WhoId", "CSP_Task_Key__c"),
        external_ids=("CSP_Task_Key__c",), custom_namespace=True,
        defaults={"Status": "Not Started", "Priority": "Normal",
                  "OwnerId": INTEGRATION_USER_ID}),
)}
_BY_LOWER = {name.lower(): sobject for name, sobject in SOBJECTS.items()}
_BY_PREFIX = {sobject.prefix: sobject for sobject in SOBJECTS.values()}
CLOSED_TASK_STATUSES = ("Completed",)


def sobject(name: str) -> SObject | None:
    """The sObject type for a (case-insensitive) name, or None."""
    return _BY_LOWER.get(name.lower())


def sobject_of_id(record_id: str) -> SObject | None:
    """The sObject type an id belongs to, from its three-character key prefix."""
    return _BY_PREFIX.get(record_id[:3])


def datetime_text(millis: int) -> str:
    """A datetime as Salesforce writes it: `2024-03-01T10:00:00.000+0000`."""
    moment = millis_datetime(millis)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis % 1000:03d}+0000"


def record_url(sobject_name: str, record_id: str) -> str:
    return f"{DATA_PATH}/sobjects/{sobject_name}/{record_id}"
