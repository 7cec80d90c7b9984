"""Usage events: NDJSON partition files -> checked pages -> Arrow tables for dlt.

Events are the one table of the platform measured in millions of rows a month, and dlt's
row-by-row path (normalize each dict, then `INSERT ... VALUES`) moved about 1,100 of them a
second into DuckDB and 4,000 into PostgreSQL on this project's test machine (merge, 300k rows
of this shape); Arrow tables are written as Parquet at extract, imported without row-by-row
normalization and bulk-loaded: 22,000-24,000 a second on both engines, merge included.
Parsing and checking still work on records, so bad lines and missing fields are caught
exactly as for every other table:

1. `event_pages` parses a file with `contracts.parse_json_lines` (a bad line becomes an
   `Unparsed` record) and tags each event with its `partition_date`;
2. the resource's `ContractStep` quarantines records that are not events and fails the run
   on page-wide drift;
3. `EventsToArrow`, placed right after it, turns each page of valid events into an Arrow
   table with declared column types. It quarantines, with the contract's own row format, an
   event whose `occurred_at` is not a time, and fails on a field whose values mix types in one
   page (Arrow columns have one type; dlt's own path would have frozen on it too).

The Arrow table carries `_dlt_load_id` (dlt adds it to dict rows, not to Arrow tables unless
the normalizer is configured to): the loader counts each load's rows by it, and lineage from
a raw row to its load needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.items_transform import ItemTransform

from integrations.contracts import (
    QUARANTINE_HINTS,
    Contract,
    SchemaDriftError,
    json_type,
    parse_json_lines,
)

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


def event_pages(body: bytes, partition_date: str, page_size: int) -> Iterator[list[Any]]:
    """The events of one NDJSON file in pages; each JSON object gets `partition_date`."""
    lines = body.decode("utf-8", errors="replace").split("\n")
    for start in range(0, len(lines), page_size):
        records = parse_json_lines(lines[start:start + page_size])
        for record in records:
            if isinstance(record, dict):
                record[PARTITION_DATE] = partition_date
        if records:
            yield records


class EventsToArrow(ItemTransform[Any, dict[str, int]]):
    """A pipe step turning pages of checked events into Arrow tables (see the module doc).

    Quarantine rows and anything else carrying dlt meta pass through untouched.
    """

    placement_affinity = 0.75    # after ContractStep (0.5), before incremental/limits (>= 1)

    def __init__(self, contract: Contract) -> None:
        super().__init__(lambda item: item)
        self.contract = contract
        self._custom_metrics = {"events": 0, "quarantined": 0}

    def __call__(self, item: Any, meta: Any = None) -> Iterator[Any]:
        if meta is not None or not isinstance(item, list) or not item:
            yield item
            return
        table, rejected = self.to_table(item, dlt.current.load_package_state()["load_id"])
        self._custom_metrics["events"] += table.num_rows
        self._custom_metrics["quarantined"] += len(rejected)
        if table.num_rows:
            yield table
        if rejected:
            yield dlt.mark.with_hints(rejected, QUARANTINE_HINTS, create_table_variant=True)

    def to_table(self, records: list[dict[str, Any]], load_id: str,
                 ) -> tuple[pa.Table, list[dict[str, Any]]]:
        """(Arrow table of the good events stamped with `load_id`, quarantine rows of events
        with a bad time)."""
        records, rejected = self._split_bad_times(records)
        names = list(EVENT_COLUMNS) + [name for name in dict.fromkeys(
            key for record in records for key in record) if name not in EVENT_COLUMNS]
        columns = [self._column(name, records) for name in names]
        columns.append(pa.array([load_id] * len(records), pa.string()))
        # The key is declared NOT NULL (as dlt declares a primary key); the contract has
        # already made sure every event has one.
        fields = [pa.field(name, column.type, nullable=name not in NOT_NULL)
                  for name, column in zip([*names, LOAD_ID_COLUMN], columns, strict=True)]
        return pa.Table.from_arrays(columns, schema=pa.schema(fields)), rejected

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


def _is_time(value: Any) -> bool:
    try:
        pc.cast(pa.array([value], pa.string()), TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return True
