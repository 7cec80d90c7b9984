"""HubSpot write-back: CS tasks keyed by a deterministic external id, health on companies.

Tasks carry the outbox key in the custom unique property `csp_task_key`. A task is created
with `POST /crm/v3/objects/tasks` (the only call that also links it to its company); HubSpot
refuses a second task with the same unique value (409), and `find_task` reads a task back by
that value (`GET /tasks/{key}?idProperty=csp_task_key`). So whatever happened before — a
dropped connection after HubSpot stored the task, a run killed before the receipt was
recorded — looking up first and treating 409 as "already there" yields exactly one task.

Company fields go in `POST /crm/v3/objects/companies/batch/update` chunks of at most
`BATCH_LIMIT` inputs; setting a value twice changes nothing, so those calls may be resent
(`idempotent=True`). Only the property names the configuration lists are ever written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import quote

from integrations.http import VendorSession

TASK_KEY_PROPERTY = "csp_task_key"
TASK_TO_COMPANY = 192              # HubSpot-defined association type: task -> company
BATCH_LIMIT = 100                  # HubSpot's batch input limit


@dataclass(frozen=True)
class TaskWrite:
    """One CS task as HubSpot stores it."""

    key: str
    subject: str
    body: str
    due_on: date
    priority: str
    owner_id: str | None
    company_id: str
    extra_properties: Mapping[str, str]


@dataclass(frozen=True)
class BatchOutcome:
    """Which companies of one batch were updated, and which HubSpot did not find."""

    updated: tuple[str, ...]
    missing: tuple[str, ...]


class HubSpotWriteback:
    """Task and company-property writes over one `VendorSession`."""

    def __init__(self, session: VendorSession, base_url: str, token: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.session.headers["Authorization"] = f"Bearer {token}"

    def find_task(self, key: str) -> str | None:
        """The id of the task with this external key, or None."""
        response = self.session.get(
            f"{self.base_url}/crm/v3/objects/tasks/{quote(key, safe=':')}",
            params={"idProperty": TASK_KEY_PROPERTY})
        if response.status_code == 404:
            return None
        self.session.ensure_ok(response)
        return str(response.json()["id"])

    def create_task(self, task: TaskWrite) -> str:
        """Create the task linked to its company; returns its id (the existing one on 409).

        May raise AmbiguousWriteError: the caller then calls `find_task`, never this again.
        """
        due = datetime.combine(task.due_on, time(9, 0), tzinfo=UTC)
        properties = {**task.extra_properties,
                      TASK_KEY_PROPERTY: task.key, "hs_task_subject": task.subject,
                      "hs_task_body": task.body, "hs_task_priority": task.priority,
                      "hs_task_status": "NOT_STARTED", "hs_task_type": "TODO",
                      "hs_timestamp": due.isoformat().replace("+00:00", "Z")}
        if task.owner_id:
            properties["hubspot_owner_id"] = task.owner_id
        body: dict[str, Any] = {"properties": properties, "associations": [{
            "to": {"id": task.company_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED",
                       "associationTypeId": TASK_TO_COMPANY}]}]}
        response = self.session.post(f"{self.base_url}/crm/v3/objects/tasks", json=body)
        if response.status_code == 409:
            existing = self.find_task(task.key)
            if existing is not None:
                return existing
        self.session.ensure_ok(response)
        return str(response.json()["id"])

    def update_companies(self, updates: Sequence[tuple[str, Mapping[str, str]]],
                         ) -> Iterator[BatchOutcome]:
        """Set properties on companies, `BATCH_LIMIT` per call; one outcome per call."""
        for start in range(0, len(updates), BATCH_LIMIT):
            chunk = updates[start:start + BATCH_LIMIT]
            inputs = [{"id": company_id, "properties": dict(properties)}
                      for company_id, properties in chunk]
            payload: dict[str, Any] = {"inputs": inputs}
            response = self.session.request(
                "POST", f"{self.base_url}/crm/v3/objects/companies/batch/update",
                json=payload, idempotent=True)
            self.session.ensure_ok(response)
            missing = _missing_ids(response.json())
            yield BatchOutcome(
                updated=tuple(cid for cid, _ in chunk if cid not in missing),
                missing=tuple(cid for cid, _ in chunk if cid in missing))


def _missing_ids(body: Mapping[str, Any]) -> set[str]:
    """Company ids a 207 answer lists as not found."""
    missing: set[str] = set()
    for error in body.get("errors") or []:
        missing.update(str(i) for i in (error.get("context") or {}).get("ids") or [])
    return missing
