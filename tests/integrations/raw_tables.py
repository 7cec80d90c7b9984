"""Reading raw tables back in tests, the same way on DuckDB and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from csp.warehouse import Warehouse
from tests.integrations.echo_vendor import query


def scalar(warehouse: Warehouse, sql: str) -> Any:
    return query(warehouse, sql)[0][0]


def table_rows(warehouse: Warehouse, schema: str, table: str,
               ) -> tuple[list[str], list[tuple[Any, ...]]]:
    """A raw table's data columns (sorted) and rows (comparable across engines), sorted."""
    columns = sorted(row[0] for row in query(warehouse, (
        "select column_name from information_schema.columns where table_schema = "
        f"'{schema}' and table_name = '{table}'")) if not row[0].startswith("_dlt_"))
    selected = ", ".join(f'"{name}"' for name in columns)
    rows = [tuple(comparable(v) for v in row)
            for row in query(warehouse, f"select {selected} from {schema}.{table}")]
    return columns, sorted(rows, key=repr)


def comparable(value: Any) -> Any:
    """A value as the same Python object whichever engine returned it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def row_hashes(warehouse: Warehouse, dataset: str) -> dict[str, Counter[str]]:
    """Every non-empty data table of `dataset` as a multiset of row hashes.

    A row hashes its non-null business columns (dlt's `_dlt_*` columns left out: load ids and
    row ids differ between two loads of the same data); a nested row also hashes its place
    (root object id, list positions), so moving a tag to another ticket changes its hash.
    A multiset, so a row loaded twice counts twice.
    """
    tables = sorted((row[0] for row in query(warehouse, (
        "select table_name from information_schema.tables where table_schema = "
        f"'{dataset}'")) if not row[0].startswith("_")), key=lambda name: name.count("__"))
    places: dict[str, tuple[Any, ...]] = {}
    hashes: dict[str, Counter[str]] = {}
    for table in tables:
        counted: Counter[str] = Counter()
        for row in dict_rows(warehouse, f"select * from {dataset}.{table}"):
            if "__" in table:
                place = (*places[row["_dlt_parent_id"]], row["_dlt_list_idx"])
            else:
                place = (row.get("id", row.get("Id", row.get("event_id"))),)
            if "_dlt_id" in row:
                places[row["_dlt_id"]] = place
            business = sorted((name, comparable(value)) for name, value in row.items()
                              if value is not None and not name.startswith("_dlt_"))
            text = json.dumps([place, business], default=str, sort_keys=True)
            counted[hashlib.sha256(text.encode()).hexdigest()] += 1
        if counted:
            hashes[table] = counted
    return hashes


def dict_rows(warehouse: Warehouse, sql: str) -> list[dict[str, Any]]:
    """Rows of `sql` as dicts, through a connection closed straight after."""
    connection = warehouse.connect()
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()
