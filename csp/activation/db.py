"""A thin DB-API wrapper so activation's SQL runs unchanged on DuckDB and PostgreSQL.

The two drivers differ in placeholders (`?` vs `%s`) and in how rows come back; everything
activation reads or writes goes through `query`/`execute` here, written with `%s`, so the
planner, outbox and suppression modules never branch on the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


class Db:
    """One open connection and its engine ("duckdb" | "postgres")."""

    def __init__(self, conn: Any, engine: str) -> None:
        if engine not in ("duckdb", "postgres"):
            raise ValueError(f"unknown engine {engine!r}")
        self.conn = conn
        self.engine = engine

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.engine == "duckdb" else sql

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        cursor = self.conn.cursor()
        try:
            cursor.execute(self._sql(sql), tuple(params))
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        cursor = self.conn.cursor()
        try:
            cursor.execute(self._sql(sql), tuple(params))
        finally:
            cursor.close()

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(row) for row in rows]
        if not batch:
            return
        cursor = self.conn.cursor()
        try:
            cursor.executemany(self._sql(sql), batch)
        finally:
            cursor.close()

    def commit(self) -> None:
        """Make the writes so far durable: a killed run keeps everything committed here."""
        self.conn.commit()

    def table_exists(self, qualified: str) -> bool:
        schema, name = qualified.split(".", 1)
        rows = self.query("select count(*) as n from information_schema.tables "
                          "where table_schema = %s and table_name = %s", (schema, name))
        return bool(rows[0]["n"])

    def columns(self, qualified: str) -> set[str]:
        schema, name = qualified.split(".", 1)
        rows = self.query("select column_name from information_schema.columns "
                          "where table_schema = %s and table_name = %s", (schema, name))
        return {row["column_name"] for row in rows}
