"""Usage events: NDJSON partition files -> checked Arrow tables for dlt.

Events are the one table of the platform measured in millions of rows a month, and dlt's
row-by-row path (normalize each dict, then `INSERT ... VALUES`) moved about 1,100 of them a
second into DuckDB and 4,000 into PostgreSQL on this project's test machine (merge, 300k rows
of this shape); Arrow tables are written as Parquet at extract, imported without row-by-row
normalization and bulk-loaded. Parsing and checking each event as a Python dict still capped
the source at ~11,000 events a second, so a file takes one of two paths:

- **clean files** (the normal case): `event_pages` parses the whole file with Arrow's
  multi-threaded JSON reader, every declared field typed as a string, and checks it column by
  column: no line may fail to parse, carry an undeclared field, miss a required field or
  hold a value that is not a string, and every `occurred_at` must be a time. Such a file
  yields Arrow tables directly: the checks the contract makes per record hold for all of
  them, so nothing would be quarantined and no drift raised;
- **any other file** falls back to records, checked exactly as every other table is:
  `contracts.parse_json_lines` (a bad line becomes an `Unparsed` record), each event tagged
  with its `partition_date`; then `EventsToArrow` applies the contract (quarantines records
  that are not events, fails the run on page-wide drift) and turns the valid events into an
  Arrow table with declared column types. It quarantines, with the contract's own row
  format, an event whose `occurred_at` is not a time, and fails on a field whose values mix
  types in one page (Arrow columns have one type; dlt's own path would have frozen on it too).

Both paths give tables of the same columns and types. `EventsToArrow` stamps each with
`_dlt_load_id` (dlt adds it to dict rows, not to Arrow tables unless the normalizer is
configured to): the loader counts each load's rows by it, and lineage from a raw row to its
load needs it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
from dlt.extract.items_transform import ItemTransform

from integrations.contracts import (
    QUARANTINE_HINTS,
    Contract,
    SchemaDriftError,
    json_type,
    parse_json_lines,
)
from integrations.usage.settings import USAGE_EVENTS_CONTRACT

OCCURRED_AT = "occurred_at"
PARTITION_DATE = "partition_date"
LOAD_ID_COLUMN = "_dlt_load_id"
TIMESTAMP = pa.timestamp("us", tz="UTC")
# Declared types of the fields the product documents, in the raw table's column order; any
# other field is added with the type Arrow infers from its values (and reported as new).
EVENT_COLUMNS: dict[str, pa.DataType] = {
    "event_id": pa.string(),
    "workspace_id": pa.string(),
    "user_id": pa.string(),
    "user_email": pa.string(),
    "feature": pa.string(),
    "event_type": pa.string(),
    OCCURRED_AT: TIMESTAMP,
    "plan": pa.string(),
    PARTITION_DATE: pa.string(),
}
NOT_NULL = frozenset({"event_id", LOAD_ID_COLUMN})
# What the fast path reads every file field as: declared fields as strings (Arrow then
# rejects a number or an object where a string belongs), `occurred_at` too (it is cast
# afterwards, exactly as the record path casts it).
FILE_SCHEMA = pa.schema([(name, pa.string()) for name in EVENT_COLUMNS
                         if name != PARTITION_DATE])


def event_pages(body: bytes, partition_date: str, page_size: int,
                contract: Contract = USAGE_EVENTS_CONTRACT) -> Iterator[pa.Table | list[Any]]:
    """The events of one NDJSON file in pages of at most `page_size`, each tagged with
    `partition_date`: Arrow tables when the whole file is clean, else lists of records."""
    table = clean_table(body, contract)
    if table is None:
        yield from record_pages(body, partition_date, page_size)
        return
    table = table.append_column(PARTITION_DATE, pa.array([partition_date] * table.num_rows,
                                                         pa.string()))
    for start in range(0, table.num_rows, page_size):
        yield table.slice(start, page_size)


def clean_table(body: bytes, contract: Contract) -> pa.Table | None:
    """The file as a table of `EVENT_COLUMNS` (without `partition_date`), or None unless
    every line is an event the contract and `EventsToArrow` would accept as it is."""
    try:
        table = pa_json.read_json(io.BytesIO(body), parse_options=pa_json.ParseOptions(
            explicit_schema=FILE_SCHEMA, unexpected_field_behavior="infer"))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None         # a bad line, a non-string value, an empty file: check records
    if table.column_names != FILE_SCHEMA.names:
        return None         # an undeclared field: the record path reports and types it
    for path in contract.required:
        if path not in FILE_SCHEMA.names or "string" not in contract.expected(path):
            return None
        if table.column(path).null_count and "null" not in contract.expected(path):
            return None
    try:
        occurred = pc.cast(table.column(OCCURRED_AT), TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return table.set_column(table.schema.get_field_index(OCCURRED_AT), OCCURRED_AT, occurred)


def record_pages(body: bytes, partition_date: str, page_size: int) -> Iterator[list[Any]]:
    """The events of one NDJSON file as records in pages; each JSON object gets
    `partition_date`, a line that is not JSON becomes `Unparsed`."""
    lines = body.decode("utf-8", errors="replace").split("\n")
    for start in range(0, len(lines), page_size):
        records = parse_json_lines(lines[start:start + page_size])
        for record in records:
            if isinstance(record, dict):
                record[PARTITION_DATE] = partition_date
        if records:
            yield records


class EventsToArrow(ItemTransform[Any, dict[str, int]]):
    """The events table's pipe step: contract and Arrow conversion (see the module doc).

    Pages of records are checked with the contract (as `contracts.ContractStep` checks every
    other table) and their valid events converted; tables from a clean file are only stamped
    with the load id. Quarantine rows and anything else carrying dlt meta pass through.
    """

    placement_affinity = 0.5     # where ContractStep sits: before incremental/limits (>= 1)

    def __init__(self, contract: Contract) -> None:
        super().__init__(lambda item: item)
        self.contract = contract
        self._custom_metrics = {"events": 0, "quarantined": 0}

    def __call__(self, item: Any, meta: Any = None) -> Iterator[Any]:
        if meta is not None or (isinstance(item, list) and not item):
            yield item
            return
        load_id = dlt.current.load_package_state()["load_id"]
        if isinstance(item, pa.Table):
            self._custom_metrics["events"] += item.num_rows
            yield stamped([(name, item.column(name)) for name in item.column_names], load_id)
            return
        checked = self.contract.check_page(item if isinstance(item, list) else [item])
        table, rejected = self.to_table(checked.valid, load_id)
        quarantined = checked.quarantined + rejected
        self._custom_metrics["events"] += table.num_rows
        self._custom_metrics["quarantined"] += len(quarantined)
        if table.num_rows:
            yield table
        if quarantined:
            yield dlt.mark.with_hints(quarantined, QUARANTINE_HINTS, create_table_variant=True)

    def to_table(self, records: list[dict[str, Any]], load_id: str,
                 ) -> tuple[pa.Table, list[dict[str, Any]]]:
        """(Arrow table of the good events stamped with `load_id`, quarantine rows of events
        with a bad time)."""
        records, rejected = self._split_bad_times(records)
        names = list(EVENT_COLUMNS) + [name for name in dict.fromkeys(
            key for record in records for key in record) if name not in EVENT_COLUMNS]
        return stamped([(name, self._column(name, records)) for name in names],
                       load_id), rejected

    def _column(self, name: str, records: list[dict[str, Any]]) -> pa.Array:
        values = [record.get(name) for record in records]
        declared = EVENT_COLUMNS.get(name)
        try:
            if name == OCCURRED_AT:
                return pc.cast(pa.array(values, pa.string()), TIMESTAMP)
            return pa.array(values, declared) if declared else pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            found = " and ".join(sorted({json_type(v) for v in values if v is not None}))
            expected = "string" if declared else "one type"
            raise SchemaDriftError(self.contract.source, self.contract.table, name,
                                   f"holds {found} values in one page (expected {expected})"
                                   ) from None

    def _split_bad_times(self, records: list[dict[str, Any]],
                         ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Events whose `occurred_at` is a time, and quarantine rows for the others (rare:
        the whole page is tried at once first)."""
        if not records:
            return records, []
        values = pa.array([record.get(OCCURRED_AT) for record in records], pa.string())
        try:
            pc.cast(values, TIMESTAMP)
            return records, []
        except pa.ArrowInvalid:
            pass
        now = datetime.now(UTC)
        good, rejected = [], []
        for record in records:
            if _is_time(record.get(OCCURRED_AT)):
                good.append(record)
            else:
                rejected.append(self.contract.quarantine_row(
                    record, f"field '{OCCURRED_AT}' is not an ISO-8601 time with a zone", now))
        return good, rejected


def stamped(columns: list[tuple[str, pa.Array | pa.ChunkedArray]], load_id: str) -> pa.Table:
    """A table of `columns` plus `_dlt_load_id`. The key is declared NOT NULL (as dlt
    declares a primary key); the contract has already made sure every event has one."""
    rows = len(columns[0][1]) if columns else 0
    columns = [*columns, (LOAD_ID_COLUMN, pa.array([load_id] * rows, pa.string()))]
    schema = pa.schema([pa.field(name, column.type, nullable=name not in NOT_NULL)
                        for name, column in columns])
    return pa.Table.from_arrays([column for _, column in columns], schema=schema)


def _is_time(value: Any) -> bool:
    try:
        pc.cast(pa.array([value], pa.string()), TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return True
