"""Running SOQL against the world: the `query` / `queryAll` resources and their locators.

A query becomes a plan: the conditions the store's index can answer (time ranges on
SystemModstamp/CreatedDate, IsDeleted, Id) go to SQL; whatever else the WHERE says is checked
per record. Results come in batches (2,000 by default, 200–2,000 through the
`Sforce-Query-Options: batchSize=N` header); while more remain the response carries
`nextRecordsUrl` = `/services/data/v59.0/query/<locator>-<offset>`. The locator is a server
cursor holding the plan and, per offset it has served, the keyset position to resume from —
so a retried page request returns the same batch, and records changed while a connector pages
are neither skipped nor served out of order. Unknown locators are INVALID_QUERY_LOCATOR.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from integrations.sandbox.store import WorldReader
from integrations.sandbox.vendors.crm_store import (
    Bounds,
    Row,
    Selection,
    count,
    parse_millis,
    select,
)
from integrations.sandbox.vendors.salesforce_schema import (
    DATA_PATH,
    DATETIME,
    VENDOR,
    SObject,
    record_url,
    salesforce_id,
    sobject,
)
from integrations.sandbox.vendors.salesforce_soql import (
    Comparison,
    Condition,
    Junction,
    Like,
    Literal,
    Membership,
    Not,
    Query,
    SoqlError,
    check,
    parse,
)

DEFAULT_BATCH = 2000
MIN_BATCH, MAX_BATCH = 200, 2000
OPEN_CURSORS = 500                # the oldest locators are dropped beyond this, as Salesforce does
SCAN_CHUNK = 2000
INDEXED = {"SystemModstamp": "updated", "CreatedDate": "created"}
ORDER_COLUMNS = {"SystemModstamp": "updated", "LastModifiedDate": "updated",
                 "CreatedDate": "created", "Id": "id"}
_LOCATOR = re.compile(r"(?P<cursor>01g[0-9A-Za-z]{15})-(?P<offset>\d+)")


class QueryError(Exception):
    """A request the query resource refuses: Salesforce's errorCode and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Plan:
    """How a checked query runs against the store."""

    target: SObject
    fields: tuple[str, ...] | None            # None: SELECT COUNT()
    selection: Selection
    where: Condition | None
    exact: bool                               # the selection alone decides membership
    names: dict[str, str]
    order: str = "created"
    descending: bool = False
    limit: int | None = None

    def matches(self, row: Row) -> bool:
        return self.where is None or evaluate(self.where, row.body, self.target, self.names)


@dataclass
class Cursor:
    """A query locator's state: its plan and the resume position of each served offset."""

    plan: Plan
    path: str                                  # "query" or "queryAll"
    batch_size: int
    total: int
    positions: dict[int, tuple[Any, str] | None] = field(default_factory=dict)


def plan_query(text: str, *, include_deleted: bool) -> Plan:
    """Parse, check and plan a query; QueryError with Salesforce's errorCode when it fails."""
    try:
        query = parse(text)
        target = sobject(query.sobject)
        names = check(query, target)
    except SoqlError as exc:
        raise QueryError(exc.code, exc.render(text)) from None
    assert target is not None  # check() raised INVALID_TYPE otherwise
    return _plan(query, target, names, include_deleted, text)


def _plan(query: Query, target: SObject, names: dict[str, str], include_deleted: bool,
          text: str) -> Plan:
    bounds, deleted, ids, exact = _indexable(query.where, names)
    if not include_deleted:
        if deleted is True:
            ids = ()                           # `query` never returns deleted records
        deleted = False
    if not target.has_is_deleted:
        deleted = None
    selection = Selection(VENDOR, target.name, groups=(bounds,), deleted=deleted, ids=ids)
    order, descending = "created", False
    if query.order_by is not None:
        name = names[query.order_by.field.name]
        if name not in ORDER_COLUMNS:
            raise QueryError("MALFORMED_QUERY", SoqlError(
                f"the sandbox orders by {', '.join(ORDER_COLUMNS)} only, not {name}",
                position=query.order_by.field.position).render(text))
        order, descending = ORDER_COLUMNS[name], query.order_by.descending
    fields = None if query.fields is None else tuple(names[f.name] for f in query.fields)
    return Plan(target, fields, selection, query.where, exact, names, order, descending,
                query.limit)


def _indexable(where: Condition | None, names: dict[str, str],
               ) -> tuple[Bounds, bool | None, tuple[str, ...] | None, bool]:
    """The index-answerable part of a WHERE: time bounds, IsDeleted, Id; and if that is all.

    Only conjuncts of a top-level AND (or a lone condition) qualify. LastModifiedDate never
    exceeds SystemModstamp, so a lower bound on it is a (non-exact) lower bound on the index.
    """
    if where is None:
        return Bounds(), None, None, True
    conjuncts = where.operands if isinstance(where, Junction) and where.operator == "AND" \
        else (where,)
    bounds, exact = Bounds(), True
    deleted: bool | None = None
    ids: tuple[str, ...] | None = None
    for condition in conjuncts:
        consumed = False
        if isinstance(condition, Comparison) and condition.value.kind != "null":
            name = names[condition.field.name]
            literal = condition.value
            if name in INDEXED and literal.kind == "datetime" and condition.operator != "!=":
                low, high = _millis_range(condition.operator, literal.value)
                bounds = bounds.narrowed(INDEXED[name], low, high)
                consumed = True
            elif name == "LastModifiedDate" and condition.operator in (">", ">=", "="):
                low, _ = _millis_range(condition.operator, literal.value)
                bounds = bounds.narrowed("updated", low, None)
            elif name == "IsDeleted" and condition.operator == "=":
                deleted, consumed = bool(literal.value), True
            elif name == "Id" and condition.operator == "=":
                ids, consumed = (str(literal.value),), True
        elif isinstance(condition, Membership) and not condition.negated \
                and names[condition.field.name] == "Id":
            ids, consumed = tuple(str(v.value) for v in condition.values), True
        exact = exact and consumed
    return bounds, deleted, ids, exact


def _millis_range(operator: str, millis: int) -> tuple[int | None, int | None]:
    return {"=": (millis, millis + 1), ">": (millis + 1, None), ">=": (millis, None),
            "<": (None, millis), "<=": (None, millis + 1)}[operator]


class QueryCursors:
    """The open query locators of one sandbox server (thread-safe, oldest dropped first)."""

    def __init__(self) -> None:
        self._cursors: OrderedDict[str, Cursor] = OrderedDict()
        self._lock = threading.Lock()
        self._issued = 0

    def start(self, world: WorldReader, plan: Plan, path: str, batch_size: int,
              ) -> dict[str, Any]:
        """The first batch of a query, opening a locator if more batches follow."""
        total = _total(world, plan)
        if plan.fields is None:
            return {"totalSize": total, "done": True, "records": []}
        cursor = Cursor(plan, path, batch_size, total, {0: None})
        with self._lock:
            self._issued += 1
            cursor_id = salesforce_id("01g", self._issued)
            self._cursors[cursor_id] = cursor
            while len(self._cursors) > OPEN_CURSORS:
                self._cursors.popitem(last=False)
        return self._batch(world, cursor_id, cursor, 0, batch_size)

    def resume(self, world: WorldReader, locator: str, batch_size: int | None,
               ) -> dict[str, Any]:
        """The batch at `<cursor>-<offset>`; INVALID_QUERY_LOCATOR if it was never issued."""
        found = _LOCATOR.fullmatch(locator)
        cursor_id, offset = (found["cursor"], int(found["offset"])) if found else ("", -1)
        with self._lock:
            cursor = self._cursors.get(cursor_id)
            if cursor is not None:
                self._cursors.move_to_end(cursor_id)
        if cursor is None or offset not in cursor.positions:
            raise QueryError("INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._batch(world, cursor_id, cursor, offset, batch_size or cursor.batch_size)

    def _batch(self, world: WorldReader, cursor_id: str, cursor: Cursor, offset: int,
               batch_size: int) -> dict[str, Any]:
        plan = cursor.plan
        wanted = batch_size if plan.limit is None else min(batch_size, plan.limit - offset)
        rows, more = _fetch(world, plan, cursor.positions[offset], max(wanted, 0))
        more = more and (plan.limit is None or offset + len(rows) < plan.limit)
        body: dict[str, Any] = {"totalSize": cursor.total, "done": not more,
                                "records": [present(plan.target, row.body, plan.fields)
                                            for row in rows]}
        if more:
            next_offset = offset + len(rows)
            with self._lock:
                cursor.positions[next_offset] = rows[-1].key(plan.order)
            body["nextRecordsUrl"] = f"{DATA_PATH}/{cursor.path}/{cursor_id}-{next_offset}"
        return body


def present(target: SObject, body: dict[str, Any], fields: tuple[str, ...] | None,
            ) -> dict[str, Any]:
    """A record as the REST API shows it: attributes, then the fields asked for (or all)."""
    names = fields if fields is not None else tuple(body)
    attributes = {"type": target.name, "url": record_url(target.name, body["Id"])}
    return {"attributes": attributes, **{name: body.get(name) for name in names}}


def batch_size_from(header: str | None) -> int:
    """The batch size a `Sforce-Query-Options` header asks for, clamped to 200–2,000."""
    found = re.search(r"batchSize\s*=\s*(\d+)", header or "")
    if found is None:
        return DEFAULT_BATCH
    return max(MIN_BATCH, min(MAX_BATCH, int(found.group(1))))


def _total(world: WorldReader, plan: Plan) -> int:
    if plan.exact:
        total = count(world, plan.selection)
    else:
        total = sum(1 for _ in _matching(world, plan, None))
    return total if plan.limit is None else min(total, plan.limit)


def _fetch(world: WorldReader, plan: Plan, after: tuple[Any, str] | None, wanted: int,
           ) -> tuple[list[Row], bool]:
    """Up to `wanted` matching rows after `after`, and whether more match beyond them."""
    found = list(islice(_matching(world, plan, after), wanted + 1))
    return found[:wanted], len(found) > wanted


def _matching(world: WorldReader, plan: Plan, after: tuple[Any, str] | None) -> Iterator[Row]:
    """Matching rows in plan order, scanned from the store a chunk at a time."""
    position = after
    while True:
        chunk = list(select(world, plan.selection, order=plan.order,
                            descending=plan.descending, after=position, limit=SCAN_CHUNK))
        for row in chunk:
            if plan.exact or plan.matches(row):
                yield row
        if len(chunk) < SCAN_CHUNK:
            return
        position = chunk[-1].key(plan.order)


# -- evaluating a WHERE clause on one record ----------------------------------------------------

def evaluate(condition: Condition, record: dict[str, Any], target: SObject,
             names: dict[str, str]) -> bool:
    """Whether a stored record satisfies a checked condition, with SOQL's semantics."""
    if isinstance(condition, Junction):
        results = (evaluate(c, record, target, names) for c in condition.operands)
        return all(results) if condition.operator == "AND" else any(results)
    if isinstance(condition, Not):
        return not evaluate(condition.operand, record, target, names)
    name = names[condition.field.name]
    actual = _comparable(record.get(name), target.field_type(name))
    if isinstance(condition, Membership):
        found = any(actual == _literal(v) for v in condition.values)
        return found != condition.negated
    if isinstance(condition, Like):
        return actual is not None and fnmatch.fnmatchcase(
            str(actual).lower(), _like_to_glob(str(condition.pattern.value).lower()))
    return _compare(condition.operator, actual, _literal(condition.value))


def _comparable(value: Any, field_type: str) -> Any:
    if value is None:
        return None
    if field_type == DATETIME and isinstance(value, str):
        return parse_millis(value)
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    return value


def _literal(literal: Literal) -> Any:
    if literal.kind == "string":
        return str(literal.value).lower()
    if literal.kind == "number":
        return float(literal.value)
    return literal.value


def _compare(operator: str, actual: Any, expected: Any) -> bool:
    if operator == "=":
        return actual == expected
    if operator == "!=":
        return actual != expected
    if actual is None or expected is None:
        return False
    try:
        return {"<": actual < expected, "<=": actual <= expected, ">": actual > expected,
                ">=": actual >= expected}[operator]
    except TypeError:
        return False


def _like_to_glob(pattern: str) -> str:
    """SOQL LIKE (% any run, _ one character) as an fnmatch pattern."""
    escaped = re.sub(r"([\[\]*?])", r"[\1]", pattern)
    return escaped.replace("%", "*").replace("_", "?")
