"""What connectors write to Salesforce: Tasks (upsert by external id) and Account fields.

Single-record calls (`PATCH sobjects/Task/<ExternalIdField>/<value>`, `PATCH
sobjects/Account/<Id>`) and the composite sObject collections (create, update, upsert of up
to 200 records, with `allOrNone`) share one validation: fields must exist and be writable,
values must have the field's type, references must point at existing records. Accepted
writes change the world and are recorded in the store's `pushed` log. One lock per vendor
instance serialises them, so concurrent retries of an upsert cannot create two Tasks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from integrations.sandbox.store import VendorObject, WorldReader
from integrations.sandbox.vendors.crm_store import (
    Row,
    Selection,
    count,
    find_by_value,
    from_millis,
    get_row,
    parse_millis,
    to_millis,
)
from integrations.sandbox.vendors.salesforce_schema import (
    ANY,
    BOOLEAN,
    CLOSED_TASK_STATUSES,
    DATE,
    DATETIME,
    DOUBLE,
    INT,
    INTEGRATION_USER_ID,
    REFERENCE,
    STRING,
    TYPE_LABELS,
    VENDOR,
    SObject,
    datetime_text,
    salesforce_id,
    sobject,
    sobject_of_id,
)

MAX_COLLECTION = 200
CREATABLE = ("Task",)
UPDATABLE = ("Account", "Task")
REFERENCE_TARGETS = {"OwnerId": ("User",), "WhatId": ("Account", "Opportunity"),
                     "WhoId": ("Contact",), "AccountId": ("Account",)}
ROLLED_BACK = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
               "message": "Record rolled back because not all records were valid and the "
                          "request was using AllOrNone header", "fields": []}


class SalesforceError(Exception):
    """A refused request: HTTP status and Salesforce's list of errors."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None,
                 ) -> None:
        super().__init__(message)
        self.status = status
        self.errors = [{"message": message, "errorCode": code, "fields": fields or []}]

    def as_collection_errors(self) -> list[dict[str, Any]]:
        """The same errors as composite results spell them (`statusCode`)."""
        return [{"statusCode": e["errorCode"], "message": e["message"], "fields": e["fields"]}
                for e in self.errors]


@dataclass(frozen=True)
class Saved:
    """One written record: its id and whether it was created."""

    id: str
    created: bool


class SalesforceWrites:
    """Task and Account writes against one world, serialised by a lock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock

    # -- single records -------------------------------------------------------------------

    def upsert(self, world: WorldReader, sobject_name: str, external_field: str, value: str,
               body: Any) -> Saved:
        """Create or update the record whose external-id field has `value`."""
        target, field_name = _upsert_target(sobject_name, external_field)
        fields = validated_fields(world, target, body)
        written = fields.get(field_name)
        if written is not None and written != value:
            raise SalesforceError(400, "INVALID_FIELD", f"The external ID in the body ({written})"
                                  f" does not match the one in the URL ({value})", [field_name])
        saved = self._upsert(world, target, field_name, value, fields)
        self._record(world, target.name, value, body, saved)
        return saved

    def update(self, world: WorldReader, sobject_name: str, record_id: str, body: Any) -> None:
        """Set fields of an existing record (204 in the API), 404 if there is none."""
        target = _writable(sobject_name, UPDATABLE)
        fields = validated_fields(world, target, body)
        with self._lock:
            row = _live_row(world, target, record_id)
            self._update(world, target, row, fields)
        self._record(world, target.name, record_id, body, Saved(row.id, created=False))

    # -- sObject collections (composite) --------------------------------------------------

    def create_many(self, world: WorldReader, body: Any) -> list[dict[str, Any]]:
        """POST composite/sobjects: create up to 200 records."""
        def create(record: dict[str, Any]) -> Callable[[], Saved]:
            target = _writable(_record_type(record), CREATABLE)
            fields = validated_fields(world, target, _without_attributes(record))
            return lambda: self._create_locked(world, target, fields)
        return self._collection(world, body, create, with_created=False)

    def update_many(self, world: WorldReader, body: Any) -> list[dict[str, Any]]:
        """PATCH composite/sobjects: update up to 200 records by Id."""
        def update(record: dict[str, Any]) -> Callable[[], Saved]:
            target = _writable(_record_type(record), UPDATABLE)
            fields = _without_attributes(record)
            record_id = str(fields.pop("Id", fields.pop("id", "")) or "")
            checked = validated_fields(world, target, fields)
            _live_row(world, target, record_id)

            def apply() -> Saved:
                with self._lock:
                    self._update(world, target, _live_row(world, target, record_id), checked)
                return Saved(record_id, created=False)
            return apply
        return self._collection(world, body, update, with_created=False)

    def upsert_many(self, world: WorldReader, sobject_name: str, external_field: str,
                    body: Any) -> list[dict[str, Any]]:
        """PATCH composite/sobjects/{type}/{field}: upsert up to 200 records by external id."""
        target, field_name = _upsert_target(sobject_name, external_field)

        def upsert(record: dict[str, Any]) -> Callable[[], Saved]:
            fields = validated_fields(world, target, _without_attributes(record))
            value = fields.get(field_name)
            if not value:
                raise SalesforceError(400, "REQUIRED_FIELD_MISSING", f"Required fields are "
                                      f"missing: [{field_name}]", [field_name])
            return lambda: self._upsert(world, target, field_name, str(value), fields)
        return self._collection(world, body, upsert, with_created=True)

    def _collection(self, world: WorldReader, body: Any,
                    prepare: Callable[[dict[str, Any]], Callable[[], Saved]],
                    *, with_created: bool) -> list[dict[str, Any]]:
        """Validate every record, then write the valid ones (none if allOrNone and any fail)."""
        records, all_or_none = _collection_records(body)
        prepared: list[Callable[[], Saved] | SalesforceError] = []
        for record in records:
            try:
                prepared.append(prepare(record))
            except SalesforceError as exc:
                prepared.append(exc)
        failed = any(isinstance(item, SalesforceError) for item in prepared)
        results = []
        for record, item in zip(records, prepared, strict=True):
            if isinstance(item, SalesforceError):
                results.append({"success": False, "errors": item.as_collection_errors()})
            elif all_or_none and failed:
                results.append({"success": False, "errors": [dict(ROLLED_BACK)]})
            else:
                saved = item()
                self._record(world, _record_type(record), saved.id, record, saved)
                result: dict[str, Any] = {"id": saved.id, "success": True, "errors": []}
                if with_created:
                    result["created"] = saved.created
                results.append(result)
        return results

    # -- storage --------------------------------------------------------------------------

    def _upsert(self, world: WorldReader, target: SObject, field_name: str, value: str,
                fields: dict[str, Any]) -> Saved:
        with self._lock:
            existing = find_by_value(world, VENDOR, target.name, f"$.{field_name}", value)
            if len(existing) > 1:
                raise SalesforceError(300, "MULTIPLE_CHOICES", f"More than one record has "
                                      f"{field_name} = {value}")
            if existing:
                self._update(world, target, existing[0], fields)
                return Saved(existing[0].id, created=False)
            return self._create(world, target, {**fields, field_name: value})

    def _create_locked(self, world: WorldReader, target: SObject, fields: dict[str, Any],
                       ) -> Saved:
        with self._lock:
            return self._create(world, target, fields)

    def _create(self, world: WorldReader, target: SObject, fields: dict[str, Any]) -> Saved:
        number = count(world, Selection(VENDOR, target.name)) + 1
        record_id = salesforce_id(target.prefix, number)
        while world.get(VENDOR, target.name, record_id) is not None:
            number += 1
            record_id = salesforce_id(target.prefix, number)
        now = self._now_ms()
        record = {"Id": record_id, "IsDeleted": False, **target.defaults, **fields}
        record.update(_derived(target, record), CreatedDate=datetime_text(now),
                      LastModifiedDate=datetime_text(now), SystemModstamp=datetime_text(now))
        world.write_object(VendorObject(VENDOR, target.name, record_id, from_millis(now),
                                        from_millis(now), record))
        return Saved(record_id, created=True)

    def _update(self, world: WorldReader, target: SObject, row: Row,
                fields: dict[str, Any]) -> None:
        # Salesforce stamps every update, even one that changes no value.
        now = max(self._now_ms(), to_millis(row.updated) + 1)
        record = {**row.body, **fields}
        record.update(_derived(target, record), LastModifiedDate=datetime_text(now),
                      SystemModstamp=datetime_text(now))
        world.write_object(VendorObject(VENDOR, target.name, row.id, row.created,
                                        from_millis(now), record))

    def _record(self, world: WorldReader, sobject_name: str, key: str, sent: Any,
                saved: Saved) -> None:
        world.record_push(VENDOR, sobject_name, key, self._clock(),
                          {"sent": sent, "id": saved.id, "created": saved.created})

    def _now_ms(self) -> int:
        return to_millis(self._clock())


def validated_fields(world: WorldReader, target: SObject, body: Any) -> dict[str, Any]:
    """Request fields by canonical name with stored values; SalesforceError(400) if invalid."""
    if not isinstance(body, dict):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "The request body must be a JSON "
                                                        "object of field values")
    fields: dict[str, Any] = {}
    for name, value in body.items():
        if name == "attributes":
            continue
        canonical = target.field(name)
        if canonical is None:
            raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on sobject "
                                                        f"of type {target.name}", [name])
        if not target.is_writable(canonical):
            raise SalesforceError(400, "INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to "
                                  f"create/update fields: {canonical}. Please check the "
                                  f"security settings of this field and verify that it is "
                                  f"read/write for your profile or permission set.",
                                  [canonical])
        fields[canonical] = _typed(world, canonical, target.field_type(canonical), value)
    return fields


def _typed(world: WorldReader, name: str, field_type: str, value: Any) -> Any:
    if value is None:
        return None
    checks: dict[str, Callable[[Any], bool]] = {
        STRING: lambda v: isinstance(v, str),
        BOOLEAN: lambda v: isinstance(v, bool),
        DOUBLE: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
        DATE: _is_date,
        DATETIME: _is_datetime,
        REFERENCE: lambda v: isinstance(v, str) and len(v) in (15, 18),
        ANY: lambda v: isinstance(v, str | int | float | bool),
    }
    if not checks[field_type](value):
        raise SalesforceError(400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of "
                              f"{TYPE_LABELS[field_type]} from value {value!r} for field {name}",
                              [name])
    if field_type == DATETIME:
        return datetime_text(parse_millis(value))
    if field_type == REFERENCE:
        _check_reference(world, name, value)
    return value


def _is_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


def _is_datetime(value: Any) -> bool:
    try:
        parse_millis(value)
    except (TypeError, ValueError):
        return False
    return True


def _check_reference(world: WorldReader, name: str, value: str) -> None:
    target = sobject_of_id(value)
    allowed = REFERENCE_TARGETS.get(name, ())
    exists = value == INTEGRATION_USER_ID or (
        target is not None and target.name in allowed
        and world.get(VENDOR, target.name, value) is not None)
    if not exists:
        raise SalesforceError(400, "INVALID_CROSS_REFERENCE_KEY",
                              f"invalid cross reference id: {value}", [name])


def _derived(target: SObject, record: dict[str, Any]) -> dict[str, Any]:
    """Fields Salesforce computes from others (a Task is closed once its status is)."""
    if target.name == "Task":
        return {"IsClosed": record.get("Status") in CLOSED_TASK_STATUSES}
    return {}


def _upsert_target(sobject_name: str, external_field: str) -> tuple[SObject, str]:
    target = _writable(sobject_name, CREATABLE)
    field_name = target.field(external_field)
    if field_name not in target.external_ids:
        raise SalesforceError(404, "NOT_FOUND", f"Provided external ID field does not exist "
                                                f"or is not accessible: {external_field}")
    return target, field_name


def _writable(sobject_name: str, allowed: tuple[str, ...]) -> SObject:
    target = sobject(sobject_name)
    if target is None:
        raise SalesforceError(404, "NOT_FOUND", f"The requested resource does not exist: "
                                                f"sObject type '{sobject_name}'")
    if target.name not in allowed:
        raise SalesforceError(403, "INSUFFICIENT_ACCESS_OR_READONLY", f"The sandbox's "
                              f"integration user cannot write {target.name} records; it "
                              f"writes {', '.join(allowed)}")
    return target


def _live_row(world: WorldReader, target: SObject, record_id: str) -> Row:
    row = get_row(world, VENDOR, target.name, record_id) if record_id else None
    if row is None:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    if row.deleted:
        raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
    return row


def _record_type(record: dict[str, Any]) -> str:
    kind = (record.get("attributes") or {}).get("type")
    if not kind:
        raise SalesforceError(400, "INVALID_TYPE", "Each record needs attributes.type")
    return str(kind)


def _without_attributes(record: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name != "attributes"}


def _collection_records(body: Any) -> tuple[list[dict[str, Any]], bool]:
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "Expected {\"records\": [...]}")
    if len(records) > MAX_COLLECTION:
        raise SalesforceError(400, "EXCEEDED_ID_LIMIT", f"record limit exceeded: a collection "
                                                        f"takes at most {MAX_COLLECTION}")
    return records, bool(body.get("allOrNone", False))
