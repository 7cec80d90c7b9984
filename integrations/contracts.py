"""Contracts on raw records: quarantine what cannot be trusted, fail the run on upstream drift.

A resource declares the fields the marts depend on (`Contract.required`: dotted path -> JSON
type(s)). Every page it yields is checked before anything else sees it:

- a record that cannot be parsed, is not a JSON object, lacks a required field or has one of
  the wrong type is **quarantined**: written to the `_quarantine` table of the same dataset
  (source, table, reason, raw payload, seen_at), in the same load package as the good records
  — so it is committed exactly when they are, and a re-extract merges onto the same row
  (`quarantine_id` is a hash of source, table and payload);
- a required field missing from *every* record of a page, or of the wrong type in every
  record, is not a bad record but a change upstream (a rename, a removal, a new type): the run
  fails with `SchemaDriftError` naming source, table, field and what changed, before the page
  is extracted, so no cursor moves past it;
- fields nobody declared are let through; dlt adds them as columns and the loader reports them.

Types of undeclared fields are guarded by dlt's own schema contract, `DLT_SCHEMA_CONTRACT`:
tables and columns evolve, data types are frozen. dlt coerces a value to its column's type when
it can ("5" into a bigint column); when it cannot, its default would create a variant column
(`amount__v_text`) and leave `amount` NULL for those rows — a silent null in a mart. `freeze`
turns that into a failure instead (raised at normalize; the loader rewinds and reports it as a
`SchemaDriftError`). `discard_row`/`discard_value` were rejected: they drop data silently.

Resources yield whole pages (lists) so that "every record of the page" means the vendor's page.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import dlt
from dlt.common.schema.typing import TSchemaContractDict
from dlt.extract import DltResource
from dlt.extract.incremental import IncrementalResourceWrapper
from dlt.extract.items import SupportsPipe
from dlt.extract.items_transform import ItemTransform

JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
QUARANTINE_TABLE = "_quarantine"
DLT_SCHEMA_CONTRACT: TSchemaContractDict = {
    "tables": "evolve", "columns": "evolve", "data_type": "freeze",
}
QUARANTINE_HINTS = dlt.mark.make_hints(
    table_name=QUARANTINE_TABLE,
    write_disposition="merge",
    primary_key="quarantine_id",
    columns=[
        {"name": "quarantine_id", "data_type": "text", "nullable": False},
        {"name": "source", "data_type": "text"},
        {"name": "table_name", "data_type": "text"},
        {"name": "reason", "data_type": "text"},
        {"name": "payload", "data_type": "text"},
        {"name": "seen_at", "data_type": "timestamp"},
    ],
)

_MISSING = object()


class SchemaDriftError(Exception):
    """The vendor changed a field the marts depend on; the message says which and how."""

    def __init__(self, source: str, table: str, field_path: str, change: str) -> None:
        self.source = source
        self.table = table
        self.field = field_path
        self.change = change
        super().__init__(f"{source}.{table}: field '{field_path}' {change}")


@dataclass(frozen=True)
class Unparsed:
    """A record that arrived as text and is not valid JSON (e.g. one bad NDJSON line)."""

    raw: str
    error: str


def parse_json_lines(lines: Iterable[str | bytes]) -> list[Any]:
    """Parse NDJSON lines; a line that is not JSON becomes `Unparsed` (to be quarantined)."""
    records: list[Any] = []
    for line in lines:
        text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            records.append(json.loads(text))
        except ValueError as exc:
            records.append(Unparsed(text, str(exc)))
    return records


_EXACT_JSON_TYPES: dict[type, str] = {
    str: "string", int: "integer", float: "number", bool: "boolean", dict: "object",
    list: "array", type(None): "null",
}


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value ("integer" for whole numbers, never "number")."""
    exact = _EXACT_JSON_TYPES.get(type(value))
    if exact is not None:
        return exact
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def _matches(value: Any, expected: tuple[str, ...]) -> bool:
    found = json_type(value)
    return found in expected or (found == "integer" and "number" in expected)


def _lookup(record: Mapping[str, Any], path: str) -> Any:
    if "." not in path:
        return record.get(path, _MISSING)
    value: Any = record
    for name in path.split("."):
        if not isinstance(value, Mapping) or name not in value:
            return _MISSING
        value = value[name]
    return value


@dataclass
class CheckedPage:
    """One page split into records to load and rows for `_quarantine`."""

    valid: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)

    def items(self) -> Iterator[Any]:
        """What a resource yields: the valid records, then the quarantine rows (own table)."""
        if self.valid:
            yield self.valid
        if self.quarantined:
            yield dlt.mark.with_hints(self.quarantined, QUARANTINE_HINTS,
                                      create_table_variant=True)


@dataclass(frozen=True)
class Contract:
    """The fields one table's marts depend on: dotted path -> JSON type name(s)."""

    source: str
    table: str
    required: Mapping[str, str | tuple[str, ...]]

    def __post_init__(self) -> None:
        for path, types in self.required.items():
            unknown = set(self._types(types)) - set(JSON_TYPES)
            if unknown or not path:
                raise ValueError(f"{self.source}.{self.table}: field {path!r} declares unknown "
                                 f"JSON type(s) {sorted(unknown)}; use {', '.join(JSON_TYPES)}")

    @staticmethod
    def _types(types: str | tuple[str, ...]) -> tuple[str, ...]:
        return (types,) if isinstance(types, str) else tuple(types)

    def expected(self, path: str) -> tuple[str, ...]:
        return self._types(self.required[path])

    def check_page(self, records: Sequence[Any], *, seen_at: datetime | None = None,
                   ) -> CheckedPage:
        """Split a page into valid and quarantined records; raise on page-wide drift.

        Each record's required fields are looked up once, for both its own verdict and the
        page-wide drift check (the hottest loop of every source's extract).
        """
        verdicts = [self._inspect(record) for record in records]
        self._fail_on_drift([values for _, values in verdicts if values is not None])
        when = seen_at or datetime.now(UTC)
        page = CheckedPage()
        for record, (reason, _) in zip(records, verdicts, strict=True):
            if reason is None:
                page.valid.append(record)
            else:
                page.quarantined.append(self.quarantine_row(record, reason, when))
        return page

    def fail_on_drift(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Raise `SchemaDriftError` if a required field is gone or retyped in every record."""
        self._fail_on_drift([[_lookup(record, path) for path in self.required]
                             for record in records])

    def _fail_on_drift(self, rows: Sequence[Sequence[Any]]) -> None:
        """`fail_on_drift` on looked-up values: one row per record, one value per field."""
        if not rows:
            return
        for position, path in enumerate(self.required):
            expected = self.expected(path)
            values = [row[position] for row in rows]
            if all(value is _MISSING for value in values):
                raise SchemaDriftError(self.source, self.table, path, "missing from every "
                                       "record of the page (renamed or removed upstream?)")
            if any(value is _MISSING or _matches(value, expected) for value in values):
                continue
            found = " or ".join(sorted({json_type(value) for value in values}))
            raise SchemaDriftError(self.source, self.table, path, f"changed type from "
                                   f"{' or '.join(expected)} to {found} in every record of the "
                                   f"page")

    def problem(self, record: Any) -> str | None:
        """Why this record must be quarantined, or None if it honours the contract."""
        return self._inspect(record)[0]

    def _inspect(self, record: Any) -> tuple[str | None, list[Any] | None]:
        """(why to quarantine the record or None, its required fields' values — `_MISSING`
        where absent — or None when it is not a JSON object)."""
        if isinstance(record, Unparsed):
            return f"unparseable JSON: {record.error}", None
        if not isinstance(record, Mapping):
            return f"record is {json_type(record)}, not a JSON object", None
        problems, values = [], []
        for path, expected in self._expected_types:
            value = _lookup(record, path)
            values.append(value)
            if value is _MISSING:
                problems.append(f"missing required field '{path}'")
            elif not _matches(value, expected):
                problems.append(f"field '{path}' is {json_type(value)}, expected "
                                f"{' or '.join(expected)}")
        return "; ".join(problems) or None, values

    @cached_property
    def _expected_types(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(path, self.expected(path)) for path in self.required]

    def quarantine_row(self, record: Any, reason: str, seen_at: datetime) -> dict[str, Any]:
        """The `_quarantine` row for a record: its raw payload and why it was held back."""
        if isinstance(record, Unparsed):
            payload = record.raw
        else:
            payload = json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
        digest = hashlib.sha256(
            "\x1f".join((self.source, self.table, payload)).encode("utf-8")).hexdigest()
        return {"quarantine_id": digest[:32], "source": self.source, "table_name": self.table,
                "reason": reason, "payload": payload, "seen_at": seen_at}


class ContractStep(ItemTransform[Any, dict[str, Any]]):
    """A dlt pipe step applying a `Contract` to each page, ahead of the incremental filter.

    It sits before dlt's incremental step (lower placement affinity) so that a record lacking
    its cursor field is quarantined rather than crashing the cursor; the quarantine rows then
    pass through that step, which must therefore be declared with
    `on_cursor_value_missing="include"` (they carry no cursor and must not be dropped).
    """

    placement_affinity = 0.5     # after the generator, before incremental (1) and limits

    def __init__(self, contract: Contract) -> None:
        super().__init__(lambda item: item)
        self.contract = contract
        self._pipe: SupportsPipe | None = None
        self._custom_metrics = {"checked": 0, "quarantined": 0}

    def bind(self, pipe: SupportsPipe) -> ContractStep:
        self._pipe = pipe
        return self

    def __call__(self, item: Any, meta: Any = None) -> Iterator[Any]:
        page = item if isinstance(item, list) else [item]
        checked = self.contract.check_page(page)
        self._custom_metrics["checked"] += len(page)
        self._custom_metrics["quarantined"] += len(checked.quarantined)
        if checked.quarantined:
            self._require_cursor_include()
        yield from checked.items()

    def _require_cursor_include(self) -> None:
        steps = getattr(self._pipe, "steps", [])
        for step in steps:
            incremental = getattr(step, "incremental", None)
            if (isinstance(step, IncrementalResourceWrapper) and incremental is not None
                    and incremental.on_cursor_value_missing != "include"):
                raise ValueError(
                    f"{self.contract.source}.{self.contract.table}: the resource's "
                    f"incremental must be declared with on_cursor_value_missing='include' so "
                    f"quarantine rows (which have no cursor) reach the _quarantine table")


def apply_contract(resource: DltResource, contract: Contract) -> DltResource:
    """Check every page `resource` yields against `contract` (see `ContractStep`)."""
    return resource.add_step(ContractStep(contract))
