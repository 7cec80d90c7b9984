"""Runs of the real sources killed with SIGKILL in extract, normalize and load, then re-run.

Each case kills a child process running one source into a fresh DuckDB file at one point (see
`killed_child`), re-runs the source in this process, and compares every raw table, as row
hashes over business columns, with an uninterrupted run of the same source over the same
world. The session's tiny world (60-account preset, one month) and small pages keep each case to
seconds while every source still pages, writes several files and has nested tables. A few
cases run in CI; the whole matrix is `slow`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from csp.settings import SOURCES, load_settings
from csp.warehouse import Warehouse
from integrations.loader import WarehouseLoader
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.store import WorldReader
from integrations.sources import build_source
from tests.integrations.echo_vendor import make_warehouse
from tests.integrations.killed_child import killed_run
from tests.integrations.raw_tables import row_hashes

Hashes = dict[str, Counter[str]]

# Kill points every source is killed at, and those aimed at one source's tables: the commit
# window of a root table with nested tables, of an append table, a later page, a later file.
EVERY_SOURCE = ("request:2", "normalize:1", "load:start", "load:merge", "load:complete")
AIMED = {
    "hubspot": ("request:6", "load:commit:owners"),
    "salesforce": ("load:commit:accounts",),
    "stripe": ("request:7", "normalize:4", "load:commit:invoices", "load:commit:events"),
    "zendesk": ("normalize:3", "load:commit:tickets"),
    "product": ("request:3", "load:commit:usage_events"),
}
IN_CI = {("zendesk", "load:commit:tickets"), ("stripe", "load:commit:events"),
         ("hubspot", "request:3"), ("salesforce", "load:merge"), ("product", "normalize:2")}
MATRIX = sorted({(source, point) for source in SOURCES
                 for point in (*EVERY_SOURCE, *AIMED[source])} | IN_CI)


def tuning(source: str, world: Path) -> dict[str, Any]:
    """Small pages, so every source makes several requests on the tiny world; the product
    feed from three days before the clock (a partition is one request)."""
    clock = date.fromisoformat(WorldReader(world).meta("clock"))
    options: dict[str, dict[str, Any]] = {
        "hubspot": {"page_size": 20, "list_page_size": 20},
        "salesforce": {},
        "stripe": {"page_size": 20},
        "zendesk": {"export_page_size": 40, "list_page_size": 20},
        "product": {"start_date": (clock - timedelta(days=2)).isoformat(),
                    "survey_page_size": 20},
    }
    return options[source]


def load(server: SandboxServer, world: Path, warehouse: Warehouse, source: str,
         name: str | None = None) -> None:
    """One uninterrupted run of `source`, into `raw_<name>` if a name is given."""
    env = {"CSP_SOURCES": ",".join(SOURCES), f"CSP_{source.upper()}_BASE_URL": server.url(source)}
    run = build_source(load_settings(env).vendors[source], **tuning(source, world))
    print(WarehouseLoader(warehouse).load(run.source.clone(with_name=name) if name
                                          else run.source))


@pytest.fixture(scope="module")
def uninterrupted(tiny_sandbox: SandboxServer, tiny_world: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Hashes]:
    """The raw tables of an uninterrupted run of a source, loaded once per source."""
    warehouse = Warehouse("duckdb", tmp_path_factory.mktemp("uninterrupted") / "w.duckdb")
    loaded: dict[str, Hashes] = {}

    def hashes(source: str) -> Hashes:
        if source not in loaded:
            load(tiny_sandbox, tiny_world, warehouse, source)
            loaded[source] = row_hashes(warehouse, f"raw_{source}")
        return loaded[source]

    return hashes


@pytest.mark.parametrize(("source", "point"), [
    pytest.param(source, point, id=f"{source}-{point}",
                 marks=() if (source, point) in IN_CI else pytest.mark.slow)
    for source, point in MATRIX])
def test_a_killed_run_is_completed_by_the_next_one(
        tiny_sandbox: SandboxServer, tiny_world: Path, duckdb_path: Path,
        uninterrupted: Callable[[str], Hashes], source: str, point: str) -> None:
    warehouse = Warehouse("duckdb", duckdb_path)
    killed_and_completed(tiny_sandbox, tiny_world, warehouse, source, point)
    assert_same_rows(row_hashes(warehouse, f"raw_{source}"), uninterrupted(source))


def test_a_run_killed_on_postgres_between_commit_and_record_is_completed_once(
        tiny_sandbox: SandboxServer, tiny_world: Path, duckdb_path: Path,
        request: pytest.FixtureRequest) -> None:
    """dlt writes PostgreSQL jobs as SQL INSERT files: the undo parses them in the database."""
    warehouse = make_warehouse("postgres", duckdb_path, request)
    killed_and_completed(tiny_sandbox, tiny_world, warehouse, "zendesk", "load:commit:tickets")
    load(tiny_sandbox, tiny_world, warehouse, "zendesk", name="zendesk_fresh")
    assert_same_rows(row_hashes(warehouse, "raw_zendesk"),
                     row_hashes(warehouse, "raw_zendesk_fresh"))


def killed_and_completed(server: SandboxServer, world: Path, warehouse: Warehouse,
                         source: str, point: str) -> None:
    killed_run(source, server.base_url, warehouse, point, **tuning(source, world))
    assert WarehouseLoader(warehouse).stored_state(source) == {}   # no cursor without its data
    load(server, world, warehouse, source)


def assert_same_rows(got: Hashes, expected: Hashes) -> None:
    assert sorted(got) == sorted(expected)
    for table, rows in expected.items():
        assert got[table] == rows, (f"{table}: {sum((got[table] - rows).values())} extra, "
                                    f"{sum((rows - got[table]).values())} missing rows")
