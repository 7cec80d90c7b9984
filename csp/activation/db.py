"""A thin DB-API wrapper so activation's SQL runs unchanged on DuckDB and PostgreSQL.

The two drivers differ in placeholders (`?` vs `%s`) and in how rows come back; everything
activation reads or writes goes through `query`/`execute` here, written with `%s`, so the
planner, outbox and suppression modules never branch on the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
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

    def _run(self, sql: str, params: Sequence[Any]) -> Any:
        """Execute on the connection itself (DuckDB) or a cursor (psycopg2): DuckDB's
        `cursor()` opens a second connection, which would sit outside `transaction()`."""
        if self.engine == "duckdb":
            return self.conn.execute(self._sql(sql), tuple(params))
        cursor = self.conn.cursor()
        cursor.execute(sql, tuple(params))
        return cursor

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name."""
        result = self._run(sql, params)
        names = [column[0] for column in result.description]
        rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        if self.engine == "postgres":
            result.close()
        return rows

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        result = self._run(sql, params)
        if self.engine == "postgres":
            result.close()

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(row) for row in rows]
        if not batch:
            return
        cursor = self.conn.cursor()
        try:
            cursor.executemany(self._sql(sql), batch)
        finally:
            cursor.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Statements inside commit together (one durable write instead of one each)."""
        if self.engine == "duckdb":
            self.conn.begin()
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()

    def insert_rows(self, statement: str, rows: Sequence[Sequence[Any]], *,
                    suffix: str = "", chunk: int = 500) -> None:
        """`statement` ("insert into t (a, b) values") with many rows per statement.

        Both drivers run `executemany` as one statement per row — seconds for a few thousand
        outbox rows on DuckDB — so rows go in multi-row VALUES lists instead.
        """
        for start in range(0, len(rows), chunk):
            batch = rows[start:start + chunk]
            values = ", ".join("(" + ", ".join(["%s"] * len(row)) + ")" for row in batch)
            self.execute(f"{statement} {values} {suffix}",
                         [value for row in batch for value in row])

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
