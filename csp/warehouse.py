"""The warehouse: a DuckDB file by default, PostgreSQL when a DSN is configured.

One place decides which engine a run uses and how each tool reaches it: a DB-API connection
for our own code, and the environment variables `dbt_project/profiles.yml` reads for dbt, so
dbt, the loaders and the checks always point at the same database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from csp.settings import Secret, Settings


@dataclass(frozen=True)
class Warehouse:
    """Which engine and where; build it with `Warehouse.from_settings`."""

    engine: str                        # "duckdb" | "postgres"
    duckdb_path: Path
    postgres_dsn: Secret | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Warehouse:
        engine = "postgres" if settings.postgres_dsn else "duckdb"
        return cls(engine, settings.duckdb_path, settings.postgres_dsn)

    def connect(self) -> Any:
        """A DB-API connection; the caller closes it. DuckDB allows one writer per file."""
        if self.engine == "duckdb":
            import duckdb

            self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
            return duckdb.connect(str(self.duckdb_path))
        import psycopg2

        assert self.postgres_dsn is not None
        return psycopg2.connect(self.postgres_dsn.reveal())

    def dbt_env(self) -> dict[str, str]:
        """Variables for `dbt_project/profiles.yml` (target and connection parts)."""
        if self.engine == "duckdb":
            self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
            return {"CSP_DBT_TARGET": "duckdb",
                    "CSP_DBT_DUCKDB_PATH": str(self.duckdb_path.resolve())}
        assert self.postgres_dsn is not None
        parts = urlsplit(self.postgres_dsn.reveal())
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        return {
            "CSP_DBT_TARGET": "postgres",
            "CSP_DBT_PG_HOST": parts.hostname or query.get("host", "localhost"),
            "CSP_DBT_PG_PORT": str(parts.port or query.get("port", 5432)),
            "CSP_DBT_PG_USER": unquote(parts.username or query.get("user", "postgres")),
            "CSP_DBT_PG_PASSWORD": unquote(parts.password or query.get("password", "")),
            "CSP_DBT_PG_DATABASE": parts.path.lstrip("/") or "postgres",
        }
