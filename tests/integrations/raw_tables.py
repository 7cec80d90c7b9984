"""Reading raw tables back in tests, the same way on DuckDB and PostgreSQL."""

from __future__ import annotations

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
