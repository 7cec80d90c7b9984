"""On PostgreSQL, the BI role (var bi_read_role, default csp_bi_reader) reads every mart and
nothing else: raw, staging and intermediate schemas hold personal data (DESIGN.md §6)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from psycopg2 import errors

from tests.dbt_fixtures import BuiltWarehouse
from tests.integrations.echo_vendor import query

BI_ROLE = "csp_bi_reader"
PRIVATE_SCHEMAS = ("raw_hubspot", "raw_stripe", "raw_zendesk", "raw_product", "staging",
                   "intermediate", "config")


@pytest.fixture
def bi_login(built_postgres: BuiltWarehouse) -> Iterator[str]:
    """A DSN logging in as a new user that is a member of the BI role only."""
    assert built_postgres.warehouse.postgres_dsn is not None
    dsn = built_postgres.warehouse.postgres_dsn.reveal()
    user = f"bi_tool_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dsn)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"create role {user} login password 'bi-secret' in role {BI_ROLE}")
    parts = urlsplit(dsn)
    netloc = f"{user}:bi-secret@{parts.hostname}:{parts.port}"
    try:
        yield urlunsplit(parts._replace(netloc=netloc))
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"drop owned by {user}")
            cursor.execute(f"drop role {user}")
        admin.close()


def tables_in(built: BuiltWarehouse, schema: str) -> list[str]:
    return [row[0] for row in query(built.warehouse, (
        "select table_name from information_schema.tables "
        f"where table_schema = '{schema}' order by table_name"))]


def select_one(dsn: str, relation: str) -> None:
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(f"select * from {relation} limit 1")
        cursor.fetchall()


def test_the_bi_role_reads_every_mart(built_postgres: BuiltWarehouse, bi_login: str) -> None:
    marts = tables_in(built_postgres, "marts")
    assert "dim_accounts" in marts and "csm_book_of_business" in marts
    for mart in marts:
        select_one(bi_login, f"marts.{mart}")


@pytest.mark.parametrize("schema", PRIVATE_SCHEMAS)
def test_the_bi_role_is_denied_everything_else(built_postgres: BuiltWarehouse, bi_login: str,
                                                schema: str) -> None:
    tables = tables_in(built_postgres, schema)
    assert tables, f"nothing built in {schema}"
    with pytest.raises(errors.InsufficientPrivilege):
        select_one(bi_login, f'{schema}."{tables[0]}"')
