"""Validation runs on real dbt-built marts: one clean and one corrupted copy per engine.

The marts come from the dbt harness (`tests/dbt_fixtures.py`: the small world ingested over
the sandbox, the whole project built once per engine per session). Each fixture here copies
that build, so corrupting it never touches what other tests read, and validates it once per
module — validation is the slow part, and one corrupted copy carries every corruption at once
(each lands in a different asset, so each failure is still attributed to its own cause).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from csp.warehouse import Warehouse
from expectations import catalog, parameters, record, runner
from expectations.runner import ValidationRun
from tests.dbt_fixtures import BuiltWarehouse, copy_raw_postgres, drop_postgres

SOURCES = ("hubspot", "stripe", "zendesk", "product")


@dataclass(frozen=True)
class Validated:
    """A private warehouse copy, its validation run and the run id recorded for it."""

    warehouse: Warehouse
    run: ValidationRun
    gx_dir: Path


def validate_and_record(warehouse: Warehouse, gx_dir: Path, run_id: str) -> ValidationRun:
    """What the validate flow does, without Prefect: state, suites, verdict recorded."""
    values = parameters.resolve(SOURCES)
    db = record.open_db(warehouse)
    try:
        state = record.inputs_state(db)
    finally:
        db.conn.close()
    run = runner.validate(warehouse, catalog.domains(SOURCES, values), values, gx_dir,
                          run_name=run_id)
    db = record.open_db(warehouse)
    try:
        record.save(db, run_id, run.verdicts, state, values)
    finally:
        db.conn.close()
    return run


def duckdb_copy(built: BuiltWarehouse, folder: Path) -> Warehouse:
    return copy_duckdb_file(built.warehouse.duckdb_path, folder)


def copy_duckdb_file(source: Path, folder: Path) -> Warehouse:
    """A private copy of a DuckDB file and its write-ahead log: dbt's in-process run may
    still hold the build's connection, so the newest tables can live in the `.wal` only."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "warehouse.duckdb"
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return Warehouse("duckdb", target)


def execute(warehouse: Warehouse, *statements: str) -> None:
    """Write to a private copy (corruptions, new loads), committed."""
    db = record.open_db(warehouse)
    try:
        for statement in statements:
            db.execute(statement)
        db.commit()
    finally:
        db.conn.close()


# One statement per corruption the issue names; each hits a different asset.
CORRUPTIONS = {
    "duplicate key": "insert into marts.dim_accounts select * from marts.dim_accounts "
                     "where account_id = (select min(account_id) from marts.dim_accounts)",
    "score 130": "update marts.fct_account_health_daily set health_score = 130 "
                 "where date = (select max(date) from marts.fct_account_health_daily) "
                 "and account_id = (select min(account_id) from marts.fct_account_health_daily "
                 "where date = (select max(date) from marts.fct_account_health_daily))",
    "negative MRR": "update marts.fct_mrr_movements set mrr_end = -mrr_end "
                    "where month = (select max(month) from marts.fct_mrr_movements) "
                    "and account_id = (select min(account_id) from marts.fct_mrr_movements "
                    "where mrr_end > 0 and month = (select max(month) from "
                    "marts.fct_mrr_movements))",
    "stale source": "update raw_hubspot._dlt_loads set inserted_at = inserted_at - "
                    "interval '3 days'",
    "70% drop in usage rows": """
        delete from raw_product.usage_events where event_id in (
            select event_id from (
                select event_id, row_number() over (order by event_id) as position,
                       count(*) over () as total
                from raw_product.usage_events
                where cast(occurred_at as date) = (
                    select max(cast(occurred_at as date)) from raw_product.usage_events)
            ) as latest_day
            where position <= 0.7 * total)""",
    "unmatched owner": "update marts.dim_accounts set csm_id = null "
                       "where account_id = (select max(account_id) from marts.dim_accounts "
                       "where mrr > 0)",
}


@pytest.fixture(scope="package")
def clean_duckdb(built_duckdb: BuiltWarehouse,
                 tmp_path_factory: pytest.TempPathFactory) -> Validated:
    folder = tmp_path_factory.mktemp("clean-duckdb")
    warehouse = duckdb_copy(built_duckdb, folder)
    return Validated(warehouse, validate_and_record(warehouse, folder / "gx", "clean"),
                     folder / "gx")


@pytest.fixture(scope="package")
def corrupted_duckdb(built_duckdb: BuiltWarehouse,
                     tmp_path_factory: pytest.TempPathFactory) -> Validated:
    folder = tmp_path_factory.mktemp("corrupted-duckdb")
    warehouse = duckdb_copy(built_duckdb, folder)
    execute(warehouse, *CORRUPTIONS.values())
    return Validated(warehouse, validate_and_record(warehouse, folder / "gx", "corrupted"),
                     folder / "gx")


@pytest.fixture(scope="package")
def built_postgres_copy(built_postgres: BuiltWarehouse,
                        postgres_server_dsn: str) -> Iterator[Warehouse]:
    """A private database cloned from the built one (PostgreSQL's template copy)."""
    assert built_postgres.warehouse.postgres_dsn is not None
    warehouse = copy_raw_postgres(postgres_server_dsn,
                                  built_postgres.warehouse.postgres_dsn.reveal())
    try:
        yield warehouse
    finally:
        drop_postgres(postgres_server_dsn, warehouse)
