"""The dbt harness (suite-wide, like `world_fixtures`): a real raw layer per engine, and dbt
run against private copies of it — for tests/dbt and for every test that needs marts.

The raw layer is produced the way production produces it — the session's small world
(six months, seed 7) served by the sandbox over real HTTP and loaded by the real sources and
`WarehouseLoader` — once per engine per session, because ingestion is the slow part. Tests
never write to it: each gets a private copy (a file copy on DuckDB, `create database ...
template` on PostgreSQL), and the whole project is built once per engine per session for the
tests that only read marts (`built_duckdb`, `built_postgres`).

`dbt_runner` runs dbt with the test's own target and log folders and returns per-node results.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from csp.dbt_runner import DbtRun, dbt_args, run_dbt
from csp.settings import Secret, load_settings
from csp.warehouse import Warehouse
from integrations.sandbox.server import SandboxServer

# What a default installation ingests (CSP_SOURCES unset): HubSpot is the CRM.
RAW_SOURCES = ("hubspot", "stripe", "zendesk", "product")
# Product usage is loaded for the world's last USAGE_DAYS days only: six months of the small
# company are ~3.7M events (minutes per engine to load); 92 days still give every 30-day health
# window, the 30 days before it for growth, and 30 days of score changes.
USAGE_DAYS = 92

DbtInvoke = Callable[..., DbtRun]


@dataclass(frozen=True)
class BuiltWarehouse:
    """A warehouse with the whole project built on it, and the build's per-node results."""

    warehouse: Warehouse
    run: DbtRun
    target_path: Path


def ingest_world(world: Path, warehouse: Warehouse, pipelines_dir: Path) -> float:
    """Load every RAW_SOURCES source of `world` into `warehouse`; returns the seconds taken."""
    # Imported here: loading dlt for every test session would slow suites that never ingest.
    from integrations.loader import WarehouseLoader
    from integrations.sources import build_source
    from integrations.usage import product_source

    started = time.monotonic()
    with SandboxServer(world) as server:
        env = {f"CSP_{name.upper()}_BASE_URL": server.url(name) for name in RAW_SOURCES}
        settings = load_settings({**env, "CSP_SOURCES": ",".join(RAW_SOURCES)})
        loader = WarehouseLoader(warehouse, pipelines_dir=pipelines_dir)
        usage_from = date.fromisoformat(server.world.meta("clock")) - timedelta(USAGE_DAYS - 1)

        def load(name: str) -> None:
            if name == "product":
                loader.load(product_source(settings.vendors[name],
                                           start_date=usage_from.isoformat()))
            else:
                loader.load(build_source(settings.vendors[name]).source)

        with ThreadPoolExecutor(max_workers=len(RAW_SOURCES)) as pool:
            list(pool.map(load, RAW_SOURCES))
    return time.monotonic() - started


@pytest.fixture(scope="session")
def raw_duckdb(small_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding the small world's raw layer; read-only — copy it to write."""
    root = tmp_path_factory.mktemp("raw-duckdb")
    path = root / "raw.duckdb"
    seconds = ingest_world(small_world, Warehouse("duckdb", path), root / "pipelines")
    print(f"\nraw layer ingested into DuckDB in {seconds:.1f}s")
    return path


@pytest.fixture(scope="session")
def raw_postgres(small_world: Path, postgres_server_dsn: str,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The DSN of a database holding the raw layer; a template — never connect to write."""
    name = f"csp_raw_{uuid.uuid4().hex[:12]}"
    _admin(postgres_server_dsn, f'create database "{name}"')
    dsn = _with_database(postgres_server_dsn, name)
    try:
        seconds = ingest_world(small_world, Warehouse("postgres", Path("unused.duckdb"),
                                                      Secret(dsn)),
                               tmp_path_factory.mktemp("raw-postgres") / "pipelines")
        print(f"\nraw layer ingested into PostgreSQL in {seconds:.1f}s")
        yield dsn
    finally:
        _admin(postgres_server_dsn, f'drop database if exists "{name}" with (force)')


def copy_raw_duckdb(raw: Path, directory: Path) -> Warehouse:
    """A private, writable copy of the raw DuckDB file."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "warehouse.duckdb"
    shutil.copyfile(raw, target)
    return Warehouse("duckdb", target)


def copy_raw_postgres(server_dsn: str, raw_dsn: str) -> Warehouse:
    """A new database cloned from the raw one (PostgreSQL's template copy: seconds, not a
    re-ingest); the caller drops it with `drop_postgres`."""
    template = urlsplit(raw_dsn).path.lstrip("/")
    name = f"csp_dbt_{uuid.uuid4().hex[:12]}"
    _admin(server_dsn, f"select pg_terminate_backend(pid) from pg_stat_activity "
                       f"where datname = '{template}' and pid <> pg_backend_pid()")
    _admin(server_dsn, f'create database "{name}" template "{template}"')
    return Warehouse("postgres", Path("unused.duckdb"), Secret(_with_database(server_dsn, name)))


def drop_postgres(server_dsn: str, warehouse: Warehouse) -> None:
    assert warehouse.postgres_dsn is not None
    name = urlsplit(warehouse.postgres_dsn.reveal()).path.lstrip("/")
    _admin(server_dsn, f'drop database if exists "{name}" with (force)')


@pytest.fixture
def duckdb_warehouse(raw_duckdb: Path, tmp_path: Path) -> Warehouse:
    """A private DuckDB warehouse holding the raw layer, for a test that runs dbt."""
    return copy_raw_duckdb(raw_duckdb, tmp_path / "warehouse")


@pytest.fixture
def postgres_warehouse(postgres_server_dsn: str, raw_postgres: str) -> Iterator[Warehouse]:
    """A private PostgreSQL database holding the raw layer, dropped afterwards."""
    warehouse = copy_raw_postgres(postgres_server_dsn, raw_postgres)
    try:
        yield warehouse
    finally:
        drop_postgres(postgres_server_dsn, warehouse)


@pytest.fixture(params=["duckdb", "postgres"])
def raw_warehouse(request: pytest.FixtureRequest) -> Warehouse:
    """A private raw warehouse on each engine in turn."""
    return request.getfixturevalue(f"{request.param}_warehouse")


@pytest.fixture
def dbt_runner(tmp_path: Path) -> DbtInvoke:
    """`dbt_runner(warehouse, "build", select=[...], full_refresh=..., dbt_vars={...})`:
    runs dbt with this test's own target/log folders and returns the per-node results."""
    calls = iter(range(1_000))

    def invoke(warehouse: Warehouse, command: str, **options: Any) -> DbtRun:
        folder = tmp_path / f"dbt-{next(calls)}-{command.replace(' ', '-')}"
        return run_dbt(warehouse, dbt_args(command, target_path=folder / "target",
                                           log_path=folder / "logs", **options))

    return invoke


def build_whole_project(warehouse: Warehouse, folder: Path) -> BuiltWarehouse:
    """`dbt build` of every node, with its manifest and logs in `folder`."""
    target = folder / "target"
    run = run_dbt(warehouse, dbt_args("build", target_path=target, log_path=folder / "logs"))
    return BuiltWarehouse(warehouse, run, target)


@pytest.fixture(scope="session")
def built_duckdb(raw_duckdb: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """The whole project built once on a DuckDB copy of the raw layer; read-only."""
    folder = tmp_path_factory.mktemp("built-duckdb")
    built = build_whole_project(copy_raw_duckdb(raw_duckdb, folder), folder)
    print(f"\ndbt build on DuckDB: {built.run.seconds:.1f}s")
    return built


@pytest.fixture(scope="session")
def built_postgres(postgres_server_dsn: str, raw_postgres: str,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltWarehouse]:
    """The whole project built once on a PostgreSQL copy of the raw layer; read-only."""
    folder = tmp_path_factory.mktemp("built-postgres")
    warehouse = copy_raw_postgres(postgres_server_dsn, raw_postgres)
    try:
        built = build_whole_project(warehouse, folder)
        print(f"\ndbt build on PostgreSQL: {built.run.seconds:.1f}s")
        yield built
    finally:
        drop_postgres(postgres_server_dsn, warehouse)


@pytest.fixture(params=["duckdb", "postgres"])
def built_warehouse(request: pytest.FixtureRequest) -> BuiltWarehouse:
    """The whole project built, on each engine in turn (shared per session; read-only)."""
    return request.getfixturevalue(f"built_{request.param}")


def _with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


def _admin(server_dsn: str, sql: str) -> None:
    connection = psycopg2.connect(server_dsn)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()
