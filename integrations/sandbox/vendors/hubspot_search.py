"""HubSpot's CRM search (`POST /crm/v3/objects/{type}/search`): filters, sorts, offset paging.

Filters on the creation and modification properties become index ranges on the store's
created/updated columns (the incremental-pull path); filters on other properties and the
free-text `query` are checked per object. Filter groups are OR-ed, filters within a group
AND-ed. Paging is by offset (`after` is "10", "20", ...) and, as in HubSpot, stops at 10,000
results: asking for `after` >= 10000 is a 400, however many objects match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from integrations.sandbox.store import WorldReader
from integrations.sandbox.vendors.crm_store import (
    Bounds,
    Row,
    Selection,
    count,
    parse_millis,
    select,
    to_millis,
)
from integrations.sandbox.vendors.hubspot_objects import (
    COMPANIES,
    CONTACTS,
    DEALS,
    TASKS,
    VENDOR,
    HubSpotError,
    project,
)

MAX_LIMIT = 200
DEFAULT_LIMIT = 10
RESULT_CAP = 10_000
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6

# Property name -> store column, for the properties whose filters use the index.
TIME_PROPERTIES = {"createdate": "created", "hs_createdate": "created",
                   "hs_lastmodifieddate": "updated", "lastmodifieddate": "updated"}
RANGE_OPERATORS = ("EQ", "GT", "GTE", "LT", "LTE", "BETWEEN")
OPERATORS = (*RANGE_OPERATORS, "NEQ", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
             "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN")
SEARCHABLE = {COMPANIES: ("name", "domain"), CONTACTS: ("firstname", "lastname", "email"),
              DEALS: ("dealname",), TASKS: ("hs_task_subject",)}


@dataclass(frozen=True)
class Filter:
    """One filter of a filter group, checked against a stored object."""

    property: str
    operator: str
    value: Any = None
    high_value: Any = None
    values: tuple[Any, ...] = ()

    def matches(self, row: Row) -> bool:
        actual = _value_of(row, self.property)
        if self.operator == "HAS_PROPERTY":
            return actual not in (None, "")
        if self.operator == "NOT_HAS_PROPERTY":
            return actual in (None, "")
        if actual is None:
            return self.operator in ("NEQ", "NOT_IN", "NOT_CONTAINS_TOKEN")
        return _compare(self, actual)


@dataclass(frozen=True)
class Group:
    """A filter group: its index range plus the filters checked per object."""

    bounds: Bounds
    filters: tuple[Filter, ...]

    def matches(self, row: Row) -> bool:
        return self.bounds.contains(row.created, row.updated) and all(
            f.matches(row) for f in self.filters)


@dataclass(frozen=True)
class Search:
    """A parsed search request."""

    kind: str
    groups: tuple[Group, ...] = ()
    order: str = "created"
    descending: bool = False
    properties: list[str] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    after: int = 0
    query: str | None = None

    @property
    def exact_in_sql(self) -> bool:
        """Whether the index ranges alone decide membership (no per-object checks)."""
        return self.query is None and all(not g.filters for g in self.groups)

    def matches(self, row: Row, searchable: Iterable[str]) -> bool:
        if self.groups and not any(group.matches(row) for group in self.groups):
            return False
        if self.query is None:
            return True
        needle = self.query.lower()
        properties = row.body.get("properties", {})
        return any(needle in str(properties.get(name) or "").lower() for name in searchable)


def parse_search(kind: str, body: Any) -> Search:
    """A search request body as HubSpot validates it; HubSpotError(400) when it would."""
    if not isinstance(body, dict):
        raise HubSpotError(400, "Invalid input JSON: the search body must be an object")
    groups = tuple(_parse_group(group) for group in body.get("filterGroups") or [])
    if len(groups) > MAX_GROUPS:
        raise HubSpotError(400, f"Too many filter groups ({len(groups)}); the maximum is "
                                f"{MAX_GROUPS}")
    order, descending = _parse_sorts(body.get("sorts") or [])
    limit = _int_field(body, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise HubSpotError(400, f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    after = _int_field(body, "after", 0)
    if after < 0:
        raise HubSpotError(400, f"after must not be negative, got {after}")
    if after >= RESULT_CAP:
        raise HubSpotError(400, f"Search results are capped at {RESULT_CAP}: after={after} is "
                                f"past the last result a search can return")
    properties = body.get("properties") or []
    if not isinstance(properties, list):
        raise HubSpotError(400, "properties must be a list of property names")
    query = body.get("query")
    return Search(kind, groups, order, descending, [str(p) for p in properties], limit, after,
                  str(query) if query else None)


def run_search(world: WorldReader, search: Search) -> dict[str, Any]:
    """The search response: `total`, one page of `results`, and `paging` while more remain."""
    selection = Selection(VENDOR, search.kind, deleted=False,
                          groups=tuple(group.bounds for group in search.groups))
    if search.exact_in_sql:
        total = count(world, selection)
        page = list(select(world, selection, order=search.order, descending=search.descending,
                           offset=search.after, limit=search.limit))
    else:
        searchable = SEARCHABLE[search.kind]
        matching = [row for row in select(world, selection, order=search.order,
                                          descending=search.descending)
                    if search.matches(row, searchable)]
        total = len(matching)
        page = matching[search.after:search.after + search.limit]
    response: dict[str, Any] = {
        "total": total,
        "results": [project(row.body, search.kind, search.properties) for row in page],
    }
    if search.after + len(page) < total:
        response["paging"] = {"next": {"after": str(search.after + len(page))}}
    return response


def _parse_group(group: Any) -> Group:
    filters = group.get("filters") if isinstance(group, dict) else None
    if not isinstance(filters, list) or not filters:
        raise HubSpotError(400, "Each filter group needs a non-empty 'filters' list")
    if len(filters) > MAX_FILTERS_PER_GROUP:
        raise HubSpotError(400, f"Too many filters in a group ({len(filters)}); the maximum "
                                f"is {MAX_FILTERS_PER_GROUP}")
    bounds = Bounds()
    checked: list[Filter] = []
    for raw in filters:
        parsed = _parse_filter(raw)
        column = TIME_PROPERTIES.get(parsed.property)
        if column is not None and parsed.operator in RANGE_OPERATORS:
            low, high = _range(parsed)
            bounds = bounds.narrowed(column, low, high)
        else:
            checked.append(parsed)
    return Group(bounds, tuple(checked))


def _parse_filter(raw: Any) -> Filter:
    if not isinstance(raw, dict) or not raw.get("propertyName") or not raw.get("operator"):
        raise HubSpotError(400, "Each filter needs 'propertyName' and 'operator'")
    name, operator = str(raw["propertyName"]), str(raw["operator"]).upper()
    if operator not in OPERATORS:
        raise HubSpotError(400, f"Unknown filter operator {raw['operator']!r}; one of "
                                f"{', '.join(OPERATORS)}")
    if operator in ("IN", "NOT_IN"):
        values = raw.get("values")
        if not isinstance(values, list) or not values:
            raise HubSpotError(400, f"Operator {operator} needs a non-empty 'values' list")
        return Filter(name, operator, values=tuple(_typed(name, v) for v in values))
    if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return Filter(name, operator)
    if "value" not in raw:
        raise HubSpotError(400, f"Operator {operator} on {name} needs a 'value'")
    high = None
    if operator == "BETWEEN":
        if "highValue" not in raw:
            raise HubSpotError(400, f"Operator BETWEEN on {name} needs a 'highValue'")
        high = _typed(name, raw["highValue"])
    return Filter(name, operator, _typed(name, raw["value"]), high)


def _typed(name: str, value: Any) -> Any:
    """A filter value as compared: epoch milliseconds for the time properties, else as sent."""
    if name not in TIME_PROPERTIES:
        return value
    text = str(value).strip()
    try:
        if text.lstrip("-").isdigit():
            return int(text)
        return parse_millis(text if "T" in text else f"{text}T00:00:00Z")
    except ValueError:
        raise HubSpotError(400, f"{value!r} is not a valid value for {name}: use epoch "
                                f"milliseconds or an ISO 8601 datetime") from None


def _range(parsed: Filter) -> tuple[int | None, int | None]:
    """[low, high) in milliseconds selected by a range operator on a time property."""
    value = parsed.value
    return {
        "EQ": (value, value + 1),
        "GT": (value + 1, None),
        "GTE": (value, None),
        "LT": (None, value),
        "LTE": (None, value + 1),
        "BETWEEN": (value, (parsed.high_value or 0) + 1),
    }[parsed.operator]


def _parse_sorts(sorts: Any) -> tuple[str, bool]:
    if not isinstance(sorts, list):
        raise HubSpotError(400, "sorts must be a list")
    if not sorts:
        return "created", False
    if len(sorts) > 1:
        raise HubSpotError(400, "Only one sort is supported")
    sort = sorts[0]
    if isinstance(sort, str):
        name, descending = sort.lstrip("-"), sort.startswith("-")
    elif isinstance(sort, dict) and sort.get("propertyName"):
        name = str(sort["propertyName"])
        descending = str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
    else:
        raise HubSpotError(400, "Each sort needs a 'propertyName'")
    column = TIME_PROPERTIES.get(name)
    if column is None:
        raise HubSpotError(400, f"The sandbox sorts search results by "
                                f"{' or '.join(TIME_PROPERTIES)} only, not {name}")
    return column, descending


def _int_field(body: dict[str, Any], name: str, default: int) -> int:
    raw = body.get(name, default)
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise HubSpotError(400, f"{name} must be an integer, got {raw!r}") from None


def _value_of(row: Row, name: str) -> Any:
    column = TIME_PROPERTIES.get(name)
    if column is not None:
        return to_millis(getattr(row, column))
    return row.body.get("properties", {}).get(name)


def _compare(spec: Filter, actual: Any) -> bool:
    operator = spec.operator
    if operator in ("IN", "NOT_IN"):
        found = any(_equal(actual, v) for v in spec.values)
        return found if operator == "IN" else not found
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(spec.value).strip("*").lower()
        found = token in str(actual).lower()
        return found if operator == "CONTAINS_TOKEN" else not found
    if operator == "EQ":
        return _equal(actual, spec.value)
    if operator == "NEQ":
        return not _equal(actual, spec.value)
    left, value = _comparable(actual), _comparable(spec.value)
    try:
        if operator == "BETWEEN":
            return value <= left <= _comparable(spec.high_value)
        return {"GT": left > value, "GTE": left >= value, "LT": left < value,
                "LTE": left <= value}[operator]
    except TypeError:
        return False


def _equal(actual: Any, expected: Any) -> bool:
    left, right = _comparable(actual), _comparable(expected)
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    return left == right


def _comparable(value: Any) -> Any:
    """Numbers compare as numbers, whether sent as 5 or "5"; everything else as text."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)
