"""Store access shared by the two CRM vendors (HubSpot and Salesforce); not a vendor itself.

`WorldReader.scan` pages by one time column; the CRM APIs need a little more: bounds on both
the created and the updated column at once, OR-ed filter groups (HubSpot search), offsets
(HubSpot search pages by offset), deleted-only listings (`archived=true`), id prefixes
(association rows) and lookups by a property value (upsert by a unique property). These are
plain indexed queries on the store's `objects` table, kept here so neither vendor module
hand-writes SQL.

Times are kept at millisecond resolution: both CRMs show milliseconds, so an object stored at
`ms / 1000` seconds compares exactly with a filter value a connector copied from a response.

Also here: the key index. Canonical records refer to each other by `key` (a contact's
`account_key`), while vendor objects refer by the vendor's id; each CRM records, per vendor,
which vendor id a canonical key became, as objects of kind `KEYS_KIND` (exported and reloaded
with the world like any other object).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from integrations.sandbox.store import Sink, VendorObject, WorldReader

KEYS_KIND = "_keys"
ORDER_COLUMNS = ("created", "updated", "id")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_millis(seconds: float) -> int:
    """POSIX seconds to whole milliseconds, the resolution both CRMs expose."""
    return round(seconds * 1000)


def from_millis(millis: int) -> float:
    """Whole milliseconds to the POSIX seconds stored in the `objects` table."""
    return millis / 1000


def millis_datetime(millis: int) -> datetime:
    """A UTC datetime for `millis`, computed without float rounding."""
    return _EPOCH + timedelta(milliseconds=millis)


def parse_millis(text: str) -> int:
    """An ISO 8601 datetime *with* a zone (Z, +hh:mm or +hhmm) to epoch milliseconds."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"datetime {text!r} has no time zone")
    return (parsed - _EPOCH) // timedelta(milliseconds=1)


def not_before(stored: int | None, updated: int) -> int:
    """A new version's update time in ms: never before the stored version's (`stored`).

    A connector's write stamps an object with the wall clock, which can be later than the
    simulated time of the generator's next version of it; CRM modification times only move
    forward, so that version lands just after the stored one instead.
    """
    return stored + 1 if stored is not None and stored > updated else updated


@dataclass(frozen=True)
class Bounds:
    """Millisecond ranges on the created/updated columns: `*_from` inclusive, `*_before` not."""

    created_from: int | None = None
    created_before: int | None = None
    updated_from: int | None = None
    updated_before: int | None = None

    def narrowed(self, column: str, low: int | None, high: int | None) -> Bounds:
        """These bounds intersected with [low, high) on `column` ("created" or "updated")."""
        current_low = getattr(self, f"{column}_from")
        current_high = getattr(self, f"{column}_before")
        if low is not None and (current_low is None or low > current_low):
            current_low = low
        if high is not None and (current_high is None or high < current_high):
            current_high = high
        values = {f"{column}_from": current_low, f"{column}_before": current_high}
        return Bounds(**{**self.__dict__, **values})

    def contains(self, created: float, updated: float) -> bool:
        """Whether a row with these column values lies inside the bounds."""
        for column, value in (("created", created), ("updated", updated)):
            millis = to_millis(value)
            low, high = getattr(self, f"{column}_from"), getattr(self, f"{column}_before")
            if (low is not None and millis < low) or (high is not None and millis >= high):
                return False
        return True

    def sql(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        for column in ("created", "updated"):
            low, high = getattr(self, f"{column}_from"), getattr(self, f"{column}_before")
            if low is not None:
                clauses.append(f"{column} >= ?")
                params.append(from_millis(low))
            if high is not None:
                clauses.append(f"{column} < ?")
                params.append(from_millis(high))
        return (" and ".join(clauses) or "1 = 1"), params


@dataclass(frozen=True)
class Selection:
    """Which objects of one vendor kind a query covers.

    `groups` are OR-ed (an empty tuple means no time bound); `deleted` None means both live and
    deleted objects; `ids` restricts to those ids; `id_prefix` to ids starting with it.
    """

    vendor: str
    kind: str
    groups: tuple[Bounds, ...] = ()
    deleted: bool | None = None
    ids: tuple[str, ...] | None = None
    id_prefix: str | None = None

    def sql(self) -> tuple[str, list[Any]]:
        clauses = ["vendor = ?", "kind = ?"]
        params: list[Any] = [self.vendor, self.kind]
        if self.deleted is not None:
            clauses.append("deleted = ?")
            params.append(int(self.deleted))
        if self.ids is not None:
            clauses.append(f"id in ({','.join('?' * len(self.ids))})" if self.ids else "0 = 1")
            params.extend(self.ids)
        if self.id_prefix is not None:
            # A range on the primary key rather than LIKE, so the index answers it.
            clauses.append("id >= ? and id < ?")
            params.extend((self.id_prefix, self.id_prefix + "\U0010ffff"))
        if self.groups:
            parts = [bound.sql() for bound in self.groups]
            clauses.append("(" + " or ".join(f"({text})" for text, _ in parts) + ")")
            for _, group_params in parts:
                params.extend(group_params)
        return " and ".join(clauses), params


@dataclass(frozen=True)
class Row:
    """One stored object with the columns routes page and filter on."""

    id: str
    created: float
    updated: float
    deleted: bool
    body: dict[str, Any]

    def key(self, order: str) -> tuple[Any, str]:
        """The keyset position of this row under `order` (see `select`)."""
        return (getattr(self, order), self.id)


def select(world: WorldReader, selection: Selection, *, order: str = "created",
           descending: bool = False, after: tuple[Any, str] | None = None, offset: int = 0,
           limit: int | None = None) -> Iterator[Row]:
    """Objects in `selection` ordered by (`order`, id), strictly past `after`, then `offset`."""
    if order not in ORDER_COLUMNS:
        raise ValueError(f"order must be one of {ORDER_COLUMNS}, not {order!r}")
    where, params = selection.sql()
    if after is not None:
        where += f" and ({order}, id) {'<' if descending else '>'} (?, ?)"
        params.extend(after)
    direction = "desc" if descending else "asc"
    sql = (f"select id, created, updated, deleted, body from objects where {where} "
           f"order by {order} {direction}, id {direction} limit ? offset ?")
    params.extend((-1 if limit is None else limit, offset))
    for row in world.conn.execute(sql, params):
        yield Row(row[0], row[1], row[2], bool(row[3]), json.loads(row[4]))


def count(world: WorldReader, selection: Selection) -> int:
    """How many objects `selection` covers."""
    where, params = selection.sql()
    return int(world.conn.execute(f"select count(*) from objects where {where}",
                                  params).fetchone()[0])


def get_row(world: WorldReader, vendor: str, kind: str, object_id: str) -> Row | None:
    """One object with its columns (its deleted flag included), or None."""
    found = list(select(world, Selection(vendor, kind, ids=(object_id,)), limit=1))
    return found[0] if found else None


def find_by_value(world: WorldReader, vendor: str, kind: str, json_path: str, value: Any,
                  *, deleted: bool | None = False) -> list[Row]:
    """Objects whose body has `value` at `json_path` (e.g. "$.properties.csp_task_key").

    A scan of the kind: used for unique-property lookups on small kinds (tasks, owners) and on
    single-object reads by an alternate id, never on paging paths.
    """
    where, params = Selection(vendor, kind, deleted=deleted).sql()
    sql = (f"select id, created, updated, deleted, body from objects where {where} "
           f"and json_extract(body, ?) = ? order by created, id")
    rows = world.conn.execute(sql, [*params, json_path, value])
    return [Row(r[0], r[1], r[2], bool(r[3]), json.loads(r[4])) for r in rows]


def max_numeric_id(world: WorldReader, vendor: str, kind: str) -> int:
    """The largest all-digit id of a kind (0 if none): where the next created id follows."""
    row = world.conn.execute(
        "select max(cast(id as integer)) from objects where vendor = ? and kind = ? "
        "and id not glob '*[^0-9]*'", (vendor, kind)).fetchone()
    return int(row[0] or 0)


def share_one_update_time(world: WorldReader, vendor: str, kind: str, count_: int,
                          body_paths: Sequence[str], render: Callable[[int], str]) -> int:
    """Fault helper: give the `count_` most recently updated live objects one update time.

    The shared time is the latest of them, so they cluster at the end of an incremental pull —
    where a connector paging by "modified after the last value seen" loses records if a page
    boundary falls inside the cluster. `body_paths` are JSON paths in the body that show the
    update time; `render` turns the shared milliseconds into the string stored at each.
    """
    if count_ < 2:
        raise ValueError("count must be at least 2 for objects to share a timestamp")
    newest = list(select(world, Selection(vendor, kind, deleted=False), order="updated",
                         descending=True, limit=count_))
    if len(newest) < 2:
        return 0
    shared = to_millis(newest[0].updated)
    assignments = ", ".join("?, ?" for _ in body_paths)
    values: list[Any] = []
    for path in body_paths:
        values.extend((path, render(shared)))
    placeholders = ",".join("?" * len(newest))
    sql = (f"update objects set updated = ?, body = json_set(body, {assignments}) "
           f"where vendor = ? and kind = ? and id in ({placeholders})")
    return world.mutate_objects(sql, (from_millis(shared), *values, vendor, kind,
                                      *(row.id for row in newest)))


# -- the key index ------------------------------------------------------------------------------

def remember_key(sink: Sink, vendor: str, canonical_kind: str, key: int, vendor_id: str) -> None:
    """Record that canonical record (`canonical_kind`, `key`) is `vendor_id` at `vendor`."""
    body = {"kind": canonical_kind, "key": key, "id": vendor_id}
    sink.upsert(_key_object(vendor, body))


def lookup_key(sink: Sink, vendor: str, canonical_kind: str, key: int, *, wanted_by: str) -> str:
    """The vendor id of canonical record (`canonical_kind`, `key`); ValueError if never put."""
    found = sink.previous(vendor, KEYS_KIND, f"{canonical_kind}:{key}")
    if found is None:
        raise ValueError(f"{wanted_by} refers to {canonical_kind} {key}, which was not put "
                         f"before it")
    return str(found["id"])


def load_key_fixture(vendor: str, body: dict[str, Any], sink: Sink) -> None:
    """Reload one key-index entry from an exported world."""
    for field in ("kind", "key", "id"):
        if field not in body:
            raise ValueError(f"{KEYS_KIND} entry lacks '{field}'")
    sink.upsert(_key_object(vendor, body))


def _key_object(vendor: str, body: dict[str, Any]) -> VendorObject:
    return VendorObject(vendor, KEYS_KIND, f"{body['kind']}:{body['key']}", 0.0, 0.0, body)


def require(body: dict[str, Any], *fields: str, what: str) -> None:
    """ValueError naming the first of `fields` missing from `body` (fixture loading)."""
    for field in fields:
        if field not in body:
            raise ValueError(f"{what} lacks '{field}'")
