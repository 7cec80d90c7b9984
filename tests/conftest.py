"""Fixtures shared by the whole suite: real warehouses, isolated settings.

PostgreSQL is real: the server named by CSP_TEST_POSTGRES_DSN when set, otherwise one started
once per session from the `pgserver` wheel's binaries. No test is skipped for lack of it.
Each test gets its own database on it, and its own DuckDB file in a temporary directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import hypothesis  # noqa: F401  (see below)
import psycopg2
import pytest
from prefect.testing.utilities import prefect_test_harness

# Imported up front on purpose: hypothesis's pytest plugin otherwise imports it lazily in the
# terminal summary, where CPython 3.11.7's assertion-rewrite parse can fail with "AST
# constructor recursion depth mismatch" after a long run and turn a green run red.

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

# The generated sandbox world and servers over it (`small_world`, `world_copy`, `sandbox`);
# raw layers ingested from it and dbt runs over them (`raw_duckdb`, `built_postgres`, ...).
pytest_plugins = ["tests.world_fixtures", "tests.dbt_fixtures"]


@pytest.fixture(scope="session")
def prefect() -> Iterator[None]:
    """One temporary Prefect server (and database) for every flow test of the session:
    starting one takes tens of seconds on a busy two-core machine."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def postgres_server_dsn() -> Iterator[str]:
    """A DSN of a running PostgreSQL server (the maintenance database)."""
    given = os.environ.get("CSP_TEST_POSTGRES_DSN")
    if given:
        yield given
        return
    from csp.local_postgres import start_local_postgres

    # Not under pytest's basetemp: a concurrent pytest session prunes old basetemp folders,
    # which would delete this server's data directory while it runs.
    root = Path(tempfile.mkdtemp(prefix="csp-test-postgres-"))
    server = start_local_postgres(root / "data")
    try:
        yield server.dsn
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_dsn(postgres_server_dsn: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"csp_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_server_dsn)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'create database "{name}"')
    parts = urlsplit(postgres_server_dsn)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


@pytest.fixture
def duckdb_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CSP_* variable from the developer's shell leaks into a test; paths go to tmp."""
    for name in list(os.environ):
        if name.startswith("CSP_") and name != "CSP_TEST_POSTGRES_DSN":
            monkeypatch.delenv(name)
    monkeypatch.setenv("CSP_SANDBOX_DIR", str(tmp_path / "sandbox"))
    monkeypatch.setenv("CSP_DUCKDB_PATH", str(tmp_path / "warehouse" / "csp.duckdb"))
