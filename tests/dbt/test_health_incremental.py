"""Incremental runs of the event-sized models (usage per day, daily health) leave exactly the
rows a full build makes, on DuckDB and PostgreSQL.

The product data of the last DAYS_HELD_BACK days is held back from a private copy of the raw
layer, the models are run (the daily models then end where the data ends, as a run that long
ago would have), the held-back rows are put back — late partitions arriving — and an
incremental run catches up. The caught-up tables must equal, row for row, those of the
session's full build of the whole project on the same raw layer (`built_<engine>`), so the
comparison costs no extra full build.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from csp.dbt_runner import DbtRun
from csp.warehouse import Warehouse
from tests.dbt_fixtures import BuiltWarehouse, DbtInvoke
from tests.integrations.echo_vendor import query

# Longer than the lookbacks (3 days) and the 7-day change, so the catching-up run must both
# recompute recent days and add new ones whose changes read days it did not recompute.
DAYS_HELD_BACK = 12
# Product tables whose rows after the cut are held back, by their time column: together they
# set the as-of day of the daily models (int_dates).
HELD_BACK = {"usage_events": "occurred_at", "survey_responses": "submitted_at"}
INCREMENTAL_MODELS = {
    "int_usage__account_daily": "intermediate",
    "int_usage__account_feature_daily": "intermediate",
    "fct_account_health_daily": "marts",
}
SELECTION = ["+fct_account_health_daily"]


def execute(warehouse: Warehouse, statements: list[str]) -> None:
    connection = warehouse.connect()
    try:
        cursor = connection.cursor()
        for statement in statements:
            cursor.execute(statement)
        connection.commit()
    finally:
        connection.close()


def hold_back(warehouse: Warehouse, since: date) -> None:
    moment = f"cast('{since.isoformat()} 00:00:00+00' as timestamp with time zone)"
    execute(warehouse, [statement for table, column in HELD_BACK.items() for statement in (
        f"create table raw_product.held_{table} as "
        f"select * from raw_product.{table} where {column} >= {moment}",
        f"delete from raw_product.{table} where {column} >= {moment}",
    )])


def deliver_held_back(warehouse: Warehouse) -> None:
    execute(warehouse, [statement for table in HELD_BACK for statement in (
        f"insert into raw_product.{table} select * from raw_product.held_{table}",
        f"drop table raw_product.held_{table}",
    )])


def rows_of(warehouse: Warehouse, schema: str, model: str) -> set[tuple[object, ...]]:
    return set(query(warehouse, f"select * from {schema}.{model}"))


def newest_day(warehouse: Warehouse, schema: str, model: str) -> date:
    return query(warehouse, f"select max(date) from {schema}.{model}")[0][0]


def succeeded(run: DbtRun) -> None:
    assert run.error is None, run.error
    assert not run.failed_nodes, "; ".join(node.problem() for node in run.failed_nodes)


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_an_incremental_catch_up_equals_the_full_build(
        engine: str, request: pytest.FixtureRequest, dbt_runner: DbtInvoke) -> None:
    built: BuiltWarehouse = request.getfixturevalue(f"built_{engine}")
    warehouse: Warehouse = request.getfixturevalue(f"{engine}_warehouse")
    last_day = newest_day(built.warehouse, "marts", "fct_account_health_daily")
    cut = last_day - timedelta(days=DAYS_HELD_BACK)

    hold_back(warehouse, cut + timedelta(days=1))
    succeeded(dbt_runner(warehouse, "seed"))
    succeeded(dbt_runner(warehouse, "run", select=SELECTION))
    for model, schema in INCREMENTAL_MODELS.items():
        assert newest_day(warehouse, schema, model) == cut, model
    deliver_held_back(warehouse)
    succeeded(dbt_runner(warehouse, "run", select=SELECTION))

    for model, schema in INCREMENTAL_MODELS.items():
        full = rows_of(built.warehouse, schema, model)
        caught_up = rows_of(warehouse, schema, model)
        assert full, model
        only_incremental, only_full = caught_up - full, full - caught_up
        assert not only_incremental and not only_full, (
            f"{model}: {len(only_incremental)} rows only after the catch-up, {len(only_full)} "
            f"only in the full build; e.g. {sorted(only_incremental, key=repr)[:2]} / "
            f"{sorted(only_full, key=repr)[:2]}")
