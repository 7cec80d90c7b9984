"""A read-only DuckDB dialect for SQLAlchemy, so Great Expectations can validate a DuckDB file.

Great Expectations reaches a database through SQLAlchemy; for DuckDB that is `duckdb-engine`.
GX runs a metric query, then closes its connection — which rolls the transaction back — and only
then fetches the rows. DuckDB discards a pending result on rollback, so every metric would come
back empty and every expectation would be judged on nothing. Validation only reads, so this
dialect makes begin/commit/rollback no-ops (autocommit): the result survives until fetched.
Use it as `duckdb+readonly:///<path>` with `connect_args={"read_only": True}`; `register()`
makes the name known to SQLAlchemy (idempotent).

DuckDB refuses a second connection to a file in the same process with another configuration
(read-only vs. read-write) while any is open, and GX keeps engines (and their pooled
connections) alive in objects it rebuilds from its stores. So the dialect tracks the
connections it opens, and `close_connections()` releases the file for a writer — the
validate flow records its verdict in the same warehouse right after validating.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from duckdb_engine import Dialect
from sqlalchemy.dialects import registry

DIALECT_NAME = "duckdb.readonly"
_OPEN: weakref.WeakSet[Any] = weakref.WeakSet()


class ReadOnlyDuckDBDialect(Dialect):  # type: ignore[misc]
    """duckdb-engine without transactions: validation queries run in autocommit."""

    # As duckdb-engine itself: no SQL compilation cache (said explicitly, so SQLAlchemy does
    # not warn on every query).
    supports_statement_cache = False

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        connection = super().connect(*cargs, **cparams)
        _OPEN.add(connection)
        return connection

    def do_begin(self, dbapi_connection: Any) -> None:
        """No transaction: a later rollback must not discard an unfetched result."""

    def do_commit(self, dbapi_connection: Any) -> None:
        """Nothing to commit: validation never writes."""

    def do_rollback(self, dbapi_connection: Any) -> None:
        """Nothing to roll back, and rolling back would drop GX's pending result."""


def register() -> None:
    registry.register(DIALECT_NAME, __name__, ReadOnlyDuckDBDialect.__name__)


def close_connections() -> None:
    """Close every connection this dialect opened (pooled ones included)."""
    for connection in list(_OPEN):
        connection.close()
    _OPEN.clear()


def readonly_url(path: Path) -> str:
    """The SQLAlchemy URL of a DuckDB file for this dialect."""
    return f"duckdb+readonly:///{Path(path).resolve()}"
