"""What connectors write to HubSpot: CS tasks (create, upsert by a unique property) and
company properties (the health score), validated as HubSpot validates them.

Every accepted write changes the world (so reads return it) and is recorded in the store's
`pushed` log with what the connector sent. Writes are serialised by one lock per vendor
instance: an upsert's read-then-write must not interleave with another for the same key, or
two concurrent retries would create two tasks — exactly what real HubSpot prevents with
unique properties.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from integrations.sandbox.store import VendorObject, WorldReader
from integrations.sandbox.vendors.crm_store import (
    Row,
    find_by_value,
    from_millis,
    get_row,
    max_numeric_id,
    parse_millis,
    to_millis,
)
from integrations.sandbox.vendors.hubspot_objects import (
    ASSOCIATION_TYPES,
    COMPANIES,
    CREATED_PROPERTY,
    MODIFIED_PROPERTY,
    OWNERS,
    TASKS,
    VENDOR,
    HubSpotError,
    association_objects,
    iso,
)

MAX_BATCH = 100
TASK_ID_BASE = 60_000_000_000
CUSTOM_PREFIX = "csp_"            # the project's namespace of custom properties
UNIQUE_PROPERTIES = {TASKS: ("csp_task_key",)}
READ_ONLY = ("hs_object_id", "createdate", "hs_createdate", "hs_lastmodifieddate",
             "lastmodifieddate")
COMPANY_PROPERTIES = ("name", "domain", "industry", "numberofemployees", "country",
                      "hubspot_owner_id", "lifecyclestage", "description", "phone", "website")
TASK_OPTIONS = {
    "hs_task_status": ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
    "hs_task_priority": ("NONE", "LOW", "MEDIUM", "HIGH"),
    "hs_task_type": ("TODO", "CALL", "EMAIL", "LINKED_IN", "MEETING"),
}
TASK_PROPERTIES = ("hs_timestamp", "hs_task_subject", "hs_task_body", "hubspot_owner_id",
                   *TASK_OPTIONS)
TASK_TARGETS = {type_id: to_type for (from_type, to_type), types in ASSOCIATION_TYPES.items()
                if from_type == TASKS for type_id, _ in types}


@dataclass(frozen=True)
class Written:
    """The outcome of one object write: the stored body and whether it was created."""

    body: dict[str, Any]
    created: bool


class HubSpotWrites:
    """Task and company writes against one world, serialised by a lock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock

    # -- tasks ----------------------------------------------------------------------------

    def create_task(self, world: WorldReader, body: Any) -> dict[str, Any]:
        """POST /crm/v3/objects/tasks: a new task, optionally associated with CRM objects."""
        if not isinstance(body, dict):
            raise HubSpotError(400, "Invalid input JSON: expected an object with 'properties'")
        properties = self._task_properties(world, body.get("properties"), creating=True)
        links = _task_associations(world, body.get("associations") or [])
        with self._lock:
            for name in UNIQUE_PROPERTIES[TASKS]:
                if properties.get(name):
                    existing = find_by_value(world, VENDOR, TASKS, f"$.properties.{name}",
                                             properties[name])
                    if existing:
                        raise HubSpotError(409, f"A task with {name}={properties[name]} already "
                                                f"exists. Existing ID: {existing[0].id}",
                                           "CONFLICT")
            written = self._create(world, properties)
        for to_type, to_id in links:
            for row in association_objects(TASKS, written.body["id"], to_type, to_id):
                world.write_object(row)
        self._record(world, "task", properties.get("csp_task_key"), body, written)
        return written.body

    def upsert_tasks(self, world: WorldReader, body: Any) -> dict[str, Any]:
        """POST /crm/v3/objects/tasks/batch/upsert: create or update by a unique property."""
        inputs = _batch_inputs(body)
        started = self.now_ms()
        prepared = []
        for item in inputs:
            id_property = item.get("idProperty")
            if id_property not in UNIQUE_PROPERTIES[TASKS]:
                raise HubSpotError(400, f"{id_property!r} is not a unique property of tasks; "
                                        f"use one of {', '.join(UNIQUE_PROPERTIES[TASKS])}")
            if not item.get("id"):
                raise HubSpotError(400, "Each upsert input needs an 'id' (the unique value)")
            properties = self._task_properties(world, item.get("properties"), creating=False)
            prepared.append((id_property, str(item["id"]), properties, item))
        _reject_duplicates([value for _, value, _, _ in prepared])
        results = []
        for id_property, value, properties, item in prepared:
            with self._lock:
                existing = find_by_value(world, VENDOR, TASKS, f"$.properties.{id_property}",
                                         value)
                if existing:
                    written = self._update(world, TASKS, existing[0], properties)
                else:
                    _require_timestamp({**properties, id_property: value})
                    written = self._create(world, {**properties, id_property: value})
            self._record(world, "task", value, item, written)
            results.append({**written.body, "new": written.created})
        return _batch_response(results, started, self.now_ms())

    # -- companies ------------------------------------------------------------------------

    def update_company(self, world: WorldReader, company_id: str, body: Any,
                       ) -> dict[str, Any]:
        """PATCH /crm/v3/objects/companies/{id}: set properties, 404 if no such company."""
        properties = _company_properties(body.get("properties") if isinstance(body, dict)
                                         else None)
        with self._lock:
            row = get_row(world, VENDOR, COMPANIES, company_id)
            if row is None or row.deleted:
                raise HubSpotError(404, f"No company with id {company_id}", "OBJECT_NOT_FOUND")
            written = self._update(world, COMPANIES, row, properties)
        self._record(world, "company_update", company_id, body, written)
        return written.body

    def update_companies(self, world: WorldReader, body: Any) -> tuple[int, dict[str, Any]]:
        """POST /crm/v3/objects/companies/batch/update: 200, or 207 listing unknown ids."""
        inputs = _batch_inputs(body)
        started = self.now_ms()
        prepared = [(str(item.get("id") or ""), _company_properties(item.get("properties")),
                     item) for item in inputs]
        _reject_duplicates([company_id for company_id, _, _ in prepared])
        results, missing = [], []
        for company_id, properties, item in prepared:
            with self._lock:
                row = get_row(world, VENDOR, COMPANIES, company_id) if company_id else None
                if row is None or row.deleted:
                    missing.append(company_id)
                    continue
                written = self._update(world, COMPANIES, row, properties)
            self._record(world, "company_update", company_id, item, written)
            results.append(written.body)
        response = _batch_response(results, started, self.now_ms())
        if not missing:
            return 200, response
        response["numErrors"] = 1
        response["errors"] = [{
            "status": "error", "category": "OBJECT_NOT_FOUND",
            "message": "Could not get some COMPANY objects, they may be deleted or not exist. "
                       "Check that ids are valid.",
            "context": {"ids": missing}, "errors": [], "links": {}}]
        return 207, response

    # -- shared ---------------------------------------------------------------------------

    def _task_properties(self, world: WorldReader, raw: Any, *, creating: bool,
                         ) -> dict[str, str | None]:
        properties = _validated(raw, TASK_PROPERTIES)
        invalid = []
        for name, options in TASK_OPTIONS.items():
            if properties.get(name) is not None and properties[name] not in options:
                invalid.append(_invalid(name, "INVALID_OPTION",
                                        f"{properties[name]} was not one of the allowed "
                                        f"options: {', '.join(options)}"))
        owner = properties.get("hubspot_owner_id")
        if owner and world.get(VENDOR, OWNERS, owner) is None:
            invalid.append(_invalid("hubspot_owner_id", "INVALID_OWNER_ID",
                                    f"{owner} is not a valid owner id"))
        timestamp = properties.get("hs_timestamp")
        if timestamp is not None:
            try:
                properties["hs_timestamp"] = iso(_millis_value(timestamp))
            except ValueError:
                invalid.append(_invalid("hs_timestamp", "INVALID_DATE",
                                        f"{timestamp} is not a valid date"))
        _raise_invalid(invalid)
        if creating:
            _require_timestamp(properties)
        return properties

    def _create(self, world: WorldReader, properties: dict[str, str | None]) -> Written:
        task_id = str(max(max_numeric_id(world, VENDOR, TASKS), TASK_ID_BASE) + 1)
        now = self.now_ms()
        system = {CREATED_PROPERTY[TASKS]: iso(now), MODIFIED_PROPERTY[TASKS]: iso(now),
                  "hs_object_id": task_id}
        defaults = {"hs_task_status": "NOT_STARTED", "hs_task_priority": "NONE",
                    "hs_task_type": "TODO"}
        body = {"id": task_id, "properties": {**defaults, **properties, **system},
                "createdAt": iso(now), "updatedAt": iso(now), "archived": False}
        world.write_object(VendorObject(VENDOR, TASKS, task_id, from_millis(now),
                                        from_millis(now), body))
        return Written(body, created=True)

    def _update(self, world: WorldReader, kind: str, row: Row,
                properties: dict[str, str | None]) -> Written:
        stored = row.body["properties"]
        if all(stored.get(name) == value for name, value in properties.items()):
            return Written(row.body, created=False)
        now = max(self.now_ms(), to_millis(row.updated) + 1)
        changed = {**stored, **properties, MODIFIED_PROPERTY[kind]: iso(now)}
        body = {**row.body, "properties": changed, "updatedAt": iso(now)}
        world.write_object(VendorObject(VENDOR, kind, row.id, row.created, from_millis(now),
                                        body))
        return Written(body, created=False)

    def _record(self, world: WorldReader, kind: str, key: str | None, sent: Any,
                written: Written) -> None:
        world.record_push(VENDOR, kind, key, self._clock(),
                          {"sent": sent, "id": written.body["id"], "created": written.created})

    def now_ms(self) -> int:
        """The write clock in milliseconds (batch responses' startedAt/completedAt)."""
        return to_millis(self._clock())


def _batch_inputs(body: Any) -> list[dict[str, Any]]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(item, dict) for item in inputs):
        raise HubSpotError(400, "Invalid input JSON: expected {\"inputs\": [...]}")
    if not inputs:
        raise HubSpotError(400, "inputs must not be empty")
    if len(inputs) > MAX_BATCH:
        raise HubSpotError(400, f"Batch input has {len(inputs)} inputs; the limit is "
                                f"{MAX_BATCH}", context={"limit": [str(MAX_BATCH)]})
    return inputs


def _reject_duplicates(ids: list[str]) -> None:
    duplicates = sorted({value for value in ids if ids.count(value) > 1})
    if duplicates:
        raise HubSpotError(400, f"Duplicate IDs found in batch input: {duplicates}. IDs must "
                                f"be unique")


def _batch_response(results: list[dict[str, Any]], started: int, completed: int,
                    ) -> dict[str, Any]:
    return {"status": "COMPLETE", "results": results, "startedAt": iso(started),
            "completedAt": iso(completed)}


def _company_properties(raw: Any) -> dict[str, str | None]:
    return _validated(raw, COMPANY_PROPERTIES)


def _validated(raw: Any, known: tuple[str, ...]) -> dict[str, str | None]:
    """Property values as HubSpot stores them (text or null), or the 400 it answers."""
    if not isinstance(raw, dict):
        raise HubSpotError(400, "Invalid input JSON: 'properties' must be an object")
    invalid = []
    values: dict[str, str | None] = {}
    for name, value in raw.items():
        if name in READ_ONLY:
            invalid.append(_invalid(name, "READ_ONLY_VALUE",
                                    f"{name} is a read only property; its value cannot be set"))
        elif name not in known and not name.startswith(CUSTOM_PREFIX):
            invalid.append(_invalid(name, "PROPERTY_DOESNT_EXIST",
                                    f'Property "{name}" does not exist'))
        elif isinstance(value, dict | list):
            invalid.append(_invalid(name, "INVALID_VALUE", f"{name} must be a single value"))
        else:
            values[name] = _text(value)
    _raise_invalid(invalid)
    return values


def _text(value: Any) -> str | None:
    """HubSpot stores every property as text; an empty string clears it."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _invalid(name: str, error: str, message: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": error, "name": name}


def _raise_invalid(invalid: list[dict[str, Any]]) -> None:
    if invalid:
        raise HubSpotError(400, f"Property values were not valid: {json.dumps(invalid)}")


def _require_timestamp(properties: dict[str, Any]) -> None:
    if not properties.get("hs_timestamp"):
        raise HubSpotError(400, "Property values were not valid: " + json.dumps([_invalid(
            "hs_timestamp", "REQUIRED_PROPERTY", "hs_timestamp is required to create a task")]))


def _millis_value(value: str) -> int:
    text = value.strip()
    if text.isdigit():
        return int(text)
    return parse_millis(text if "T" in text else f"{text}T00:00:00Z")


def _task_associations(world: WorldReader, raw: Any) -> list[tuple[str, str]]:
    """The (type, id) targets of a task create's `associations`, each checked to exist."""
    if not isinstance(raw, list):
        raise HubSpotError(400, "associations must be a list")
    targets = []
    for entry in raw:
        to_id = str(((entry or {}).get("to") or {}).get("id") or "")
        types = (entry or {}).get("types") or []
        if not to_id or not types:
            raise HubSpotError(400, "Each association needs 'to.id' and 'types'")
        for association_type in types:
            to_type = TASK_TARGETS.get(association_type.get("associationTypeId"))
            if to_type is None:
                raise HubSpotError(400, f"associationTypeId "
                                        f"{association_type.get('associationTypeId')} does not "
                                        f"associate a task; use one of {sorted(TASK_TARGETS)}")
            row = get_row(world, VENDOR, to_type, to_id)
            if row is None or row.deleted:
                raise HubSpotError(400, f"Cannot associate the task with {to_type} {to_id}: "
                                        f"no such object", "VALIDATION_ERROR")
            targets.append((to_type, to_id))
    return targets

