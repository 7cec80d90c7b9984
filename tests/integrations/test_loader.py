"""The warehouse loader against real DuckDB and PostgreSQL, fed over real HTTP by the sandbox.

Interruptions are real: a child process runs the loader and is killed with SIGKILL at a
chosen point (mid-extract, after extract, after normalize, before the merge, before the load
is recorded); the next run must leave the raw table identical, row for row, to an
uninterrupted run, and the cursor stored in the destination must never run ahead of the data.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests

from csp.settings import Secret
from csp.warehouse import Warehouse
from integrations.http import RetryPolicy, VendorHTTPError, create_session
from integrations.loader import (
    LoadReport,
    WarehouseBusyError,
    WarehouseLoader,
    default_pipelines_dir,
)
from integrations.ratelimit import ClientRateLimiter
from integrations.sandbox.routing import RateLimit
from integrations.sandbox.server import SandboxServer
from tests.integrations.echo_vendor import (
    AUTH,
    echo_sandbox,
    echo_source,
    echo_vendor,
    make_items,
    make_warehouse,
    query,
)

REPO = Path(__file__).resolve().parents[2]
FAST = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)
ROWS_SQL = ("select id, updated, amount, customer, meta__domain from raw_echo.items "
            "order by id")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with echo_sandbox(tmp_path) as running:
        echo_vendor(running).put(*make_items(60))
        yield running


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, duckdb_path: Path) -> Warehouse:
    return make_warehouse(request.param, duckdb_path, request)


def run(server: SandboxServer, loader: WarehouseLoader, *, name: str = "echo",
        full_refresh: bool = False, page_size: int = 25, **session: Any) -> LoadReport:
    http = create_session("echo", headers=AUTH, retry=FAST, **session)
    report = loader.load(echo_source(http, server.url("echo"), page_size=page_size, name=name),
                         full_refresh=full_refresh, http_stats=http.stats.snapshot)
    print(report)
    return report


def expected_rows(server: SandboxServer) -> list[tuple[Any, ...]]:
    items = sorted(echo_vendor(server).items.values(), key=lambda item: item["id"])
    return [(i["id"], i["updated"], i["amount"], i["customer"], i["meta"]["domain"])
            for i in items]


def cursor(loader: WarehouseLoader) -> Any:
    state = loader.stored_state("echo")
    if not state:
        return None
    return state["sources"]["echo"]["resources"]["items"]["incremental"]["updated"][
        "last_value"]


def test_merge_by_primary_key_and_incremental_runs(server: SandboxServer,
                                                   warehouse: Warehouse) -> None:
    loader = WarehouseLoader(warehouse)
    first = run(server, loader)
    assert (first.table("items").extracted, first.table("items").loaded) == (60, 60)
    assert query(warehouse, ROWS_SQL) == expected_rows(server)
    server.reset_counts()
    unchanged = run(server, loader)
    assert (unchanged.extracted, unchanged.loaded) == (0, 0)
    assert server.request_counts("echo") == {"echo items.list": 1}
    changed = [{**item, "updated": 1000 + n, "amount": -n}
               for n, item in enumerate(make_items(3, start=10))]
    echo_vendor(server).put(*changed)
    again = run(server, loader)
    assert (again.table("items").extracted, again.table("items").loaded) == (3, 3)
    assert query(warehouse, ROWS_SQL) == expected_rows(server)
    assert query(warehouse, "select count(*), count(distinct id) from raw_echo.items") == [
        (60, 60)]
    refreshed = run(server, loader, full_refresh=True)
    assert refreshed.table("items").loaded == 60
    assert query(warehouse, ROWS_SQL) == expected_rows(server)


def test_a_full_refresh_drops_views_built_on_the_raw_tables(server: SandboxServer,
                                                              warehouse: Warehouse) -> None:
    """dbt's staging views read the raw tables; PostgreSQL refuses to drop a table a view
    depends on, so a full refresh drops those views (the next transform rebuilds them)."""
    loader = WarehouseLoader(warehouse)
    run(server, loader)
    with closing(warehouse.connect()) as conn:
        cursor = conn.cursor()
        cursor.execute("create schema if not exists staging")
        cursor.execute("create view staging.stg_echo__items as select id from raw_echo.items")
        conn.commit()
    refreshed = run(server, loader, full_refresh=True)
    assert refreshed.table("items").loaded == 60
    assert query(warehouse, ROWS_SQL) == expected_rows(server)


def test_state_lives_in_the_destination(server: SandboxServer, warehouse: Warehouse) -> None:
    loader = WarehouseLoader(warehouse)
    run(server, loader)
    states = query(warehouse, "select pipeline_name from raw_echo._dlt_pipeline_state")
    assert ("csp_echo",) in states
    assert cursor(loader) == 159
    shutil.rmtree(loader.pipelines_dir)          # the machine lost its working folder
    server.reset_counts()
    echo_vendor(server).put(*make_items(2, start=60, updated=500))
    report = run(server, loader)
    assert (report.table("items").extracted, report.table("items").loaded) == (2, 2)
    assert server.request_counts("echo") == {"echo items.list": 1}
    assert cursor(loader) == 561


def test_two_warehouses_never_share_state(server: SandboxServer, tmp_path: Path) -> None:
    first = WarehouseLoader(Warehouse("duckdb", tmp_path / "wh" / "a.duckdb"))
    second = WarehouseLoader(Warehouse("duckdb", tmp_path / "wh" / "b.duckdb"))
    assert first.pipelines_dir != second.pipelines_dir
    assert run(server, first).loaded == 60
    assert run(server, second).loaded == 60


def test_default_pipelines_dirs(tmp_path: Path) -> None:
    duck = Warehouse("duckdb", tmp_path / "w" / "csp.duckdb")
    assert default_pipelines_dir(duck) == tmp_path / "w" / ".dlt" / "csp.duckdb"
    pg = Warehouse("postgres", tmp_path / "w" / "csp.duckdb",
                   Secret("postgresql://csp:hunter2@db.internal:5432/analytics"))
    other = Warehouse("postgres", tmp_path / "w" / "csp.duckdb",
                      Secret("postgresql://csp:hunter2@db.internal:5432/staging"))
    path = default_pipelines_dir(pg)
    assert path.parent == tmp_path / "w" / ".dlt" and path.name.startswith("postgres-")
    assert "hunter2" not in str(path) and path != default_pipelines_dir(other)


def test_report_lines_and_dict(server: SandboxServer, duckdb_path: Path) -> None:
    echo_vendor(server).put({"id": "bad", "updated": 10, "amount": "x", "customer": "c"})
    report = run(server, WarehouseLoader(Warehouse("duckdb", duckdb_path)))
    lines = report.lines()
    assert lines[0].startswith("raw_echo: 60 extracted, 60 loaded, 1 quarantined in ")
    assert lines[1:] == ["  table  extracted  loaded  quarantined  new columns",
                         "  items         60      60            1  (new table)"]
    data = report.as_dict()
    assert data["tables"][0]["table"] == "items" and data["http"]["requests"] == 3


def test_wrong_credentials_name_the_source(server: SandboxServer, duckdb_path: Path) -> None:
    loader = WarehouseLoader(Warehouse("duckdb", duckdb_path))
    http = create_session("echo", headers={"Authorization": "Bearer nope"}, retry=FAST)
    with pytest.raises(VendorHTTPError) as caught:
        loader.load(echo_source(http, server.url("echo")))
    assert str(caught.value) == "echo: GET /echo/items answered HTTP 401 Unauthorized"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "nope" not in str(caught.value)


def test_storms_bursts_and_drops_lose_nothing_and_respect_the_limit(tmp_path: Path,
                                                                   duckdb_path: Path) -> None:
    with echo_sandbox(tmp_path, rate_limit=RateLimit(20, 1.0)) as server:
        echo_vendor(server).put(*make_items(150))
        # Spread over the run (seeded, so repeatable); faults firing on the same request
        # stack, and then the first answers for all of them.
        for spec in ({"kind": "rate_limit", "count": 2, "seconds": 1},
                     {"kind": "http_error", "status": 503, "count": 3, "probability": 0.2},
                     {"kind": "drop", "route": "items.list", "count": 2, "probability": 0.2}):
            requests.post(server.base_url + "/_sandbox/faults", json={"vendor": "echo", **spec},
                          timeout=5).raise_for_status()
        limiter = ClientRateLimiter(RateLimit(20, 1.0))
        started = time.monotonic()
        report = run(server, WarehouseLoader(Warehouse("duckdb", duckdb_path)), page_size=5,
                     limiter=limiter)
        elapsed = time.monotonic() - started
        http = report.http
        print(f"{http['requests']} requests in {elapsed:.2f}s under a 20/s limit; retries "
              f"{http['retry_reasons']}; limiter waits {http['rate_limit_waits']} "
              f"({http['rate_limit_wait_seconds']}s); server rejected {server.limiter.rejected}")
        assert report.table("items").loaded == 150
        assert query(Warehouse("duckdb", duckdb_path),
                     "select count(*), count(distinct id) from raw_echo.items") == [(150, 150)]
        reasons = http["retry_reasons"]
        assert (reasons["429"], reasons["ConnectionError"]) == (2, 2)
        assert 1 <= reasons["503"] <= 3
        assert server.limiter.rejected == 0 and http["rate_limit_waits"] > 0


def test_loads_of_two_sources_into_one_duckdb_file_are_serialised(
        server: SandboxServer, duckdb_path: Path) -> None:
    loader = WarehouseLoader(Warehouse("duckdb", duckdb_path))
    reports: dict[str, LoadReport] = {}
    errors: list[BaseException] = []

    def load(name: str) -> None:
        try:
            reports[name] = run(server, loader, name=name)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(name,)) for name in ("echo", "echo_two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {name: report.loaded for name, report in reports.items()} == {
        "echo": 60, "echo_two": 60}
    assert query(Warehouse("duckdb", duckdb_path),
                 "select count(*) from raw_echo_two.items") == [(60,)]


HOLD_LOCK = """
import fcntl, os, sys, time
handle = open(sys.argv[1], "a+")
fcntl.flock(handle, fcntl.LOCK_EX)
handle.seek(0); handle.truncate(); handle.write(f"{os.getpid()}\\n"); handle.flush()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""

HOLD_DUCKDB = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
connection.close()
"""


def hold(script: str, path: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", script, str(path), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_loader_in_another_process_holds_the_writer_lock(server: SandboxServer,
                                                          duckdb_path: Path) -> None:
    run(server, WarehouseLoader(Warehouse("duckdb", duckdb_path)))
    lock = duckdb_path.with_name(duckdb_path.name + ".lock")
    holder = hold(HOLD_LOCK, lock, 30)
    try:
        impatient = WarehouseLoader(Warehouse("duckdb", duckdb_path), lock_timeout=0.3)
        with pytest.raises(WarehouseBusyError) as caught:
            run(server, impatient)
        assert str(caught.value) == (f"DuckDB file {duckdb_path} is busy: process "
                                     f"{holder.pid} has held {lock.name} for more than 0.3s")
    finally:
        holder.kill()
        holder.wait()
    holder = hold(HOLD_LOCK, lock, 1.0)
    started = time.monotonic()
    report = run(server, WarehouseLoader(Warehouse("duckdb", duckdb_path), lock_timeout=20))
    waited = time.monotonic() - started
    holder.wait()
    print(f"waited {waited:.2f}s for a writer holding the lock for 1.0s")
    assert report.loaded == 0 and waited >= 0.7


def test_a_process_outside_the_loader_holding_the_duckdb_file(server: SandboxServer,
                                                             duckdb_path: Path) -> None:
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    holder = hold(HOLD_DUCKDB, duckdb_path, 30)
    try:
        with pytest.raises(WarehouseBusyError) as caught:
            run(server, WarehouseLoader(Warehouse("duckdb", duckdb_path), lock_timeout=0.5))
        assert str(caught.value) == (f"echo: DuckDB file {duckdb_path} is held by another "
                                     f"process for more than 0.5s; close it and re-run")
    finally:
        holder.kill()
        holder.wait()
    holder = hold(HOLD_DUCKDB, duckdb_path, 1.0)
    report = run(server, WarehouseLoader(Warehouse("duckdb", duckdb_path), lock_timeout=20))
    holder.wait()
    assert report.loaded == 60


# -- killed runs -------------------------------------------------------------------------------

KILLED_RUN = """
import os, signal, sys
from pathlib import Path

import dlt
from dlt.load.load import Load

from csp.settings import Secret
from csp.warehouse import Warehouse
from integrations.http import VendorSession, create_session
from integrations.loader import WarehouseLoader
from tests.integrations.echo_vendor import AUTH, echo_source

point, base_url, duckdb_path, dsn = sys.argv[1:5]


def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


if point == "mid_extract":                     # after the first page was received
    send = VendorSession.send
    calls = []

    def send_then_die(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            die()
        return send(self, *args, **kwargs)

    VendorSession.send = send_then_die
elif point == "after_extract":
    dlt.Pipeline.normalize = die
elif point == "after_normalize":
    dlt.Pipeline.load = die
elif point == "before_merge":                  # staging tables loaded, merge not run
    Load.create_followup_jobs = die
elif point == "before_complete":               # every table written, load not recorded
    Load.complete_package = die
if dsn:
    warehouse = Warehouse("postgres", Path(duckdb_path), Secret(dsn))
else:
    warehouse = Warehouse("duckdb", Path(duckdb_path))
session = create_session("echo", headers=AUTH)
WarehouseLoader(warehouse).load(echo_source(session, base_url, page_size=25))
print("not killed")
"""

KILL_POINTS = ["mid_extract", "after_extract", "after_normalize", "before_merge",
               "before_complete"]


def killed_run(point: str, server: SandboxServer, warehouse: Warehouse) -> None:
    dsn = warehouse.postgres_dsn.reveal() if warehouse.postgres_dsn else ""
    env = {**os.environ, "PYTHONPATH": str(REPO), "RUNTIME__DLTHUB_TELEMETRY": "false"}
    child = subprocess.run([sys.executable, "-c", KILLED_RUN, point, server.url("echo"),
                            str(warehouse.duckdb_path), dsn],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr


@pytest.mark.parametrize("lose_working_folder", [False, True], ids=["kept", "lost"])
@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_run_killed_anywhere_is_completed_by_the_next_one(
        server: SandboxServer, duckdb_path: Path, point: str,
        lose_working_folder: bool) -> None:
    check_killed_run(server, Warehouse("duckdb", duckdb_path), point, lose_working_folder)


@pytest.mark.parametrize("point", ["after_normalize", "before_complete"])
def test_a_run_killed_on_postgres_is_completed_by_the_next_one(
        server: SandboxServer, duckdb_path: Path, point: str,
        request: pytest.FixtureRequest) -> None:
    check_killed_run(server, make_warehouse("postgres", duckdb_path, request), point, False)


def check_killed_run(server: SandboxServer, warehouse: Warehouse, point: str,
                     lose_working_folder: bool) -> None:
    loader = WarehouseLoader(warehouse)
    run(server, loader)
    assert cursor(loader) == 159
    echo_vendor(server).put(*make_items(60, start=60, updated=1000))
    killed_run(point, server, warehouse)
    assert cursor(loader) == 159                 # the destination's cursor did not move
    if lose_working_folder:
        shutil.rmtree(loader.pipelines_dir)
    report = run(server, loader)
    assert query(warehouse, ROWS_SQL) == expected_rows(server)
    assert query(warehouse, "select count(*), count(distinct id) from raw_echo.items") == [
        (120, 120)]
    assert cursor(loader) == 1119
    resumed = point != "mid_extract"
    assert bool(report.resumed_load_ids) == (resumed and not lose_working_folder)


def test_only_dlts_untyped_null_column_warning_is_dropped() -> None:
    dlt_logger = logging.getLogger("dlt")

    def record(message: str) -> logging.LogRecord:
        return dlt_logger.makeRecord("dlt", logging.WARNING, __file__, 1, message, (), None)

    noise = ("The following columns in table 'charges' did not receive any data during this "
             "load and therefore could not have their types inferred:\n  - shipping")
    assert not dlt_logger.filter(record(noise))
    assert dlt_logger.filter(record("Table 'charges' has 3 new columns"))
