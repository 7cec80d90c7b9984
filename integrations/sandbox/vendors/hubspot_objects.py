"""HubSpot CRM v3 object conventions: type names, default properties, associations, errors.

Shared by the HubSpot renderers, read routes, search and writes. Objects are stored with
every property they have (null included); what a response shows is decided here, the way
HubSpot does it: the type's default properties unless `properties` is given, and always the
object id, creation and modification properties.
"""

from __future__ import annotations

import uuid
from typing import Any

from integrations.sandbox.routing import Response, json_response
from integrations.sandbox.store import VendorObject, WorldReader
from integrations.sandbox.vendors.crm_store import Selection, millis_datetime, select

VENDOR = "hubspot"
COMPANIES, CONTACTS, DEALS, TASKS = "companies", "contacts", "deals", "tasks"
OWNERS = "owners"
ASSOCIATIONS = "associations"
OBJECT_TYPES = (COMPANIES, CONTACTS, DEALS, TASKS)

# Every spelling HubSpot accepts in a path: plural, singular, object type id.
ALIASES = {
    COMPANIES: ("company", "0-2"),
    CONTACTS: ("contact", "0-1"),
    DEALS: ("deal", "0-3"),
    TASKS: ("task", "0-27"),
}
_TYPE_BY_ALIAS = {alias: name for name, aliases in ALIASES.items()
                  for alias in (name, *aliases)}
SINGULAR = {name: aliases[0] for name, aliases in ALIASES.items()}

CREATED_PROPERTY = {COMPANIES: "createdate", CONTACTS: "createdate", DEALS: "createdate",
                    TASKS: "hs_createdate"}
MODIFIED_PROPERTY = {COMPANIES: "hs_lastmodifieddate", CONTACTS: "lastmodifieddate",
                     DEALS: "hs_lastmodifieddate", TASKS: "hs_lastmodifieddate"}

# What HubSpot returns when a request names no properties (as in its sample responses).
DEFAULT_PROPERTIES = {
    COMPANIES: ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    CONTACTS: ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate",
               "lastname"),
    DEALS: ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
            "hs_object_id", "pipeline"),
    TASKS: ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
}

# HubSpot-defined association type ids, per direction: (typeId, label). A contact's or deal's
# company is its primary one, which HubSpot reports as a labelled plus an unlabelled type.
ASSOCIATION_TYPES: dict[tuple[str, str], tuple[tuple[int, str | None], ...]] = {
    (CONTACTS, COMPANIES): ((1, "Primary"), (279, None)),
    (COMPANIES, CONTACTS): ((2, "Primary"), (280, None)),
    (DEALS, COMPANIES): ((5, "Primary"), (341, None)),
    (COMPANIES, DEALS): ((6, "Primary"), (342, None)),
    (TASKS, COMPANIES): ((192, None),),
    (COMPANIES, TASKS): ((191, None),),
    (TASKS, CONTACTS): ((204, None),),
    (CONTACTS, TASKS): ((203, None),),
    (TASKS, DEALS): ((216, None),),
    (DEALS, TASKS): ((215, None),),
}


class HubSpotError(Exception):
    """Raised by HubSpot handlers and helpers; becomes HubSpot's JSON error body."""

    def __init__(self, status: int, message: str, category: str = "VALIDATION_ERROR",
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.extra = extra

    def response(self) -> Response:
        return error_response(self.status, self.message, self.category, **self.extra)


def error_response(status: int, message: str, category: str, **extra: Any) -> Response:
    """HubSpot's error body: status, message, correlationId, category (+ context fields)."""
    body = {"status": "error", "message": message, "correlationId": correlation_id(),
            "category": category, **extra}
    return json_response(body, status)


def correlation_id() -> str:
    return str(uuid.uuid4())


def object_type(name: str) -> str:
    """The plural type for any spelling of a supported object type, else a 400 like HubSpot's."""
    found = _TYPE_BY_ALIAS.get(name.lower())
    if found is None:
        raise HubSpotError(400, f"Unable to infer object type from: {name}")
    return found


def iso(millis: int | None) -> str | None:
    """HubSpot's datetime text: UTC with milliseconds and a Z."""
    if millis is None:
        return None
    moment = millis_datetime(millis)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis % 1000:03d}Z"


def split_names(raw: list[str]) -> list[str]:
    """`properties=a,b&properties=c` (both spellings HubSpot accepts) as one list."""
    return [name.strip() for value in raw for name in value.split(",") if name.strip()]


def project(body: dict[str, Any], kind: str, requested: list[str] | None) -> dict[str, Any]:
    """A response copy of a stored object showing the properties a request asked for.

    Requested properties the object has are shown (null included); unknown ones are left out,
    as HubSpot does; the id, creation and modification properties are always shown.
    """
    stored: dict[str, Any] = body.get("properties", {})
    names = list(requested) if requested else list(DEFAULT_PROPERTIES[kind])
    names += ["hs_object_id", CREATED_PROPERTY[kind], MODIFIED_PROPERTY[kind]]
    shown = {name: stored[name] for name in sorted(set(names)) if name in stored}
    return {**body, "properties": shown}


# -- associations ---------------------------------------------------------------------------------

def association_prefix(from_type: str, from_id: str, to_type: str) -> str:
    return f"{from_type}/{from_id}/{to_type}/"


def association_objects(from_type: str, from_id: str, to_type: str, to_id: str, *,
                        archived: bool = False) -> list[VendorObject]:
    """Both directions of one association, as stored rows (one per direction)."""
    return [_association_object(from_type, from_id, to_type, to_id, archived),
            _association_object(to_type, to_id, from_type, from_id, archived)]


def _association_object(from_type: str, from_id: str, to_type: str, to_id: str,
                        archived: bool) -> VendorObject:
    types = [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": label}
             for type_id, label in ASSOCIATION_TYPES[(from_type, to_type)]]
    body = {"fromObjectType": from_type, "fromObjectId": from_id, "toObjectType": to_type,
            "toObjectId": to_id, "associationTypes": types, "archived": archived}
    return association_object_from_body(body)


def association_object_from_body(body: dict[str, Any]) -> VendorObject:
    """The stored row for an association body (also how an exported one is reloaded)."""
    row_id = association_prefix(body["fromObjectType"], body["fromObjectId"],
                                body["toObjectType"]) + str(body["toObjectId"])
    return VendorObject(VENDOR, ASSOCIATIONS, row_id, 0.0, 0.0, body,
                        deleted=bool(body.get("archived")))


def associations_of(world: WorldReader, from_type: str, from_id: str, to_type: str, *,
                    after_target: str | None = None, limit: int | None = None,
                    ) -> list[dict[str, Any]]:
    """Live association bodies from one object to a type, ordered by the target's id.

    `after_target` resumes after that target id (v4 paging).
    """
    prefix = association_prefix(from_type, from_id, to_type)
    selection = Selection(VENDOR, ASSOCIATIONS, deleted=False, id_prefix=prefix)
    position = None if after_target is None else (prefix + after_target, prefix + after_target)
    return [row.body for row in select(world, selection, order="id", after=position,
                                       limit=limit)]


def v3_associations(world: WorldReader, kind: str, object_id: str, wanted: list[str],
                    ) -> dict[str, Any]:
    """The `associations` member of a v3 object read with `associations=...`.

    Types with no associated objects are left out, as HubSpot does.
    """
    shown: dict[str, Any] = {}
    for name in wanted:
        to_type = object_type(name)
        entries = []
        for body in associations_of(world, kind, object_id, to_type):
            for association_type in body["associationTypes"]:
                entries.append({"id": str(body["toObjectId"]),
                                "type": v3_type_name(kind, to_type, association_type)})
        if entries:
            shown[to_type] = {"results": entries}
    return shown


def v3_type_name(from_type: str, to_type: str, association_type: dict[str, Any]) -> str:
    """The v3 name of an association type: `company_to_contact`, `..._unlabeled`."""
    base = f"{SINGULAR[from_type]}_to_{SINGULAR[to_type]}"
    labelled = any(label for _, label in ASSOCIATION_TYPES[(from_type, to_type)])
    return f"{base}_unlabeled" if labelled and not association_type["label"] else base


def v4_target(body: dict[str, Any]) -> dict[str, Any]:
    """One v4 association result: the target id (a number, as HubSpot sends it) and types."""
    target = body["toObjectId"]
    return {"toObjectId": int(target) if str(target).isdigit() else target,
            "associationTypes": body["associationTypes"]}
