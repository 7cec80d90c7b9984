"""The read-only DuckDB dialect GX validates through: results survive GX's rollback, and the
file is released for the verdict's writer."""

from __future__ import annotations

from pathlib import Path

import duckdb
import sqlalchemy as sa

from integrations import gx_duckdb


def make_file(path: Path) -> None:
    connection = duckdb.connect(str(path))
    connection.execute("create schema marts; create table marts.t as select range as id "
                       "from range(5)")
    connection.close()


def test_a_result_survives_a_rollback_before_it_is_fetched(duckdb_path: Path) -> None:
    make_file(duckdb_path)
    gx_duckdb.register()
    engine = sa.create_engine(gx_duckdb.readonly_url(duckdb_path),
                              connect_args={"read_only": True})
    with engine.connect() as connection:          # what GX does: execute, roll back, fetch
        result = connection.execute(sa.text("select id from marts.t order by id"))
        connection.rollback()
        assert [row[0] for row in result.fetchall()] == [0, 1, 2, 3, 4]
    engine.dispose()
    gx_duckdb.close_connections()


def test_closing_the_dialects_connections_lets_a_writer_open_the_file(duckdb_path: Path
                                                                       ) -> None:
    make_file(duckdb_path)
    gx_duckdb.register()
    engine = sa.create_engine(gx_duckdb.readonly_url(duckdb_path),
                              connect_args={"read_only": True})
    with engine.connect() as connection:
        assert connection.execute(sa.text("select count(*) from marts.t")).scalar() == 5
    gx_duckdb.close_connections()                 # the pool still holds it; this releases it
    writer = duckdb.connect(str(duckdb_path))
    writer.execute("create table marts.verdict as select 1 as ok")
    writer.close()
