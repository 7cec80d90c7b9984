"""The product source against the sandbox over real HTTP, into real DuckDB and PostgreSQL.

A usage partition of the small company holds ~3,000 events; these tests load the last day
or two of the history (`start_date`); the whole history is the slow throughput test at the end.
Event counts are checked against the events the sandbox renders from its store, requests
against the sandbox's own request counter.
"""

from __future__ import annotations

import hashlib
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from csp.settings import VendorConfig, load_settings
from csp.warehouse import Warehouse
from integrations.contracts import SchemaDriftError
from integrations.http import RetriesExhaustedError, RetryPolicy, VendorHTTPError
from integrations.loader import LoadReport, WarehouseLoader
from integrations.ratelimit import ClientRateLimiter, RateLimit
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.simulation import step
from integrations.sandbox.store import WorldReader, WorldWriter
from integrations.sandbox.vendors import product_usage
from integrations.sandbox.vendors.zendesk_wire import day_start
from integrations.usage import product_session, product_source
from tests.integrations.echo_vendor import make_warehouse, query
from tests.integrations.killed_child import killed_run

FAST = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)
EVENT_COLUMNS = ("event_id, workspace_id, user_id, user_email, feature, event_type, "
                 "occurred_at, plan, partition_date")
COMPARED = {"usage_events": EVENT_COLUMNS,
            "usage_partitions": "date, path, events, sha256, updated_at",
            "survey_responses": "id, survey, score, scale_min, scale_max, comment, email, "
                                "workspace_id, submitted_at, updated_at"}


def config(server: SandboxServer, **env: str) -> VendorConfig:
    return load_settings({"CSP_PRODUCT_BASE_URL": server.url("product"), **env}
                         ).vendors["product"]


def run(server: SandboxServer, loader: WarehouseLoader, *, name: str | None = None,
        limiter: ClientRateLimiter | None = None, retry: RetryPolicy = FAST,
        **tuning: Any) -> LoadReport:
    cfg = config(server)
    http = product_session(cfg, retry=retry, **({"limiter": limiter} if limiter else {}))
    source = product_source(cfg, session=http, **tuning)
    report = loader.load(source.clone(with_name=name) if name else source,
                         http_stats=http.stats.snapshot)
    print(report)
    return report


def last_day(world: Path) -> str:
    return str(WorldReader(world).meta("clock"))[:10]


def day_before(day: str, days: int = 1) -> str:
    return (date.fromisoformat(day) - timedelta(days=days)).isoformat()


def events_of(world: Path, *days: str) -> int:
    """Events the sandbox serves for `days`, rendered from its store."""
    reader = WorldReader(world)
    return sum(len(product_usage.render_day(reader, day)) for day in days)


def surveys_since(world: Path, day: str) -> int:
    return int(WorldReader(world).count("product", "survey_responses", since=day_start(day)))


def faults(server: SandboxServer, *specs: dict[str, Any]) -> None:
    """Replace the sandbox's faults with `specs` (the product's)."""
    requests.delete(f"{server.base_url}/_sandbox/faults", timeout=5).raise_for_status()
    for spec in specs:
        requests.post(f"{server.base_url}/_sandbox/faults", json={"vendor": "product", **spec},
                      timeout=5).raise_for_status()


def differing_rows(warehouse: Warehouse, table: str, left: str, right: str) -> int:
    columns = COMPARED[table]
    return int(query(warehouse, f"select count(*) from (select {columns} from {left}.{table} "
                                f"except select {columns} from {right}.{table}) as d")[0][0])


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, duckdb_path: Path) -> Warehouse:
    return make_warehouse(request.param, duckdb_path, request)


def test_full_load_lands_every_event_and_answer_with_identity_keys(sandbox: SandboxServer,
                                                                   world_copy: Path,
                                                                   duckdb_path: Path) -> None:
    last = last_day(world_copy)
    start = day_before(last)
    warehouse = Warehouse("duckdb", duckdb_path)
    report = run(sandbox, WarehouseLoader(warehouse), start_date=start)
    events = events_of(world_copy, start, last)
    assert report.table("usage_events").loaded == events > 0
    assert report.table("survey_responses").loaded == surveys_since(world_copy, start) > 0
    assert report.table("usage_partitions").loaded == 2
    assert sandbox.request_counts("product") == {"product usage.partitions": 1,
                                                 "product usage.partition_file": 2,
                                                 "product survey_responses.list": 1}
    assert query(warehouse, "select count(*), count(distinct event_id), count(workspace_id), "
                            "min(partition_date), max(partition_date) from "
                            "raw_product.usage_events") == [(events, events, events, start, last)]
    with_email, occurred = query(warehouse, "select count(user_email), min(occurred_at) from "
                                            "raw_product.usage_events")[0]
    assert 0 < with_email < events                   # seat users the CRM does not know
    assert occurred.date().isoformat() == start      # a timestamp column, not text
    assert query(warehouse, "select count(*) from raw_product.survey_responses where "
                            "workspace_id is null or email is null") == [(0,)]
    listed = requests.get(f"{sandbox.url('product')}/v1/usage/partitions",
                          params={"since": start}, timeout=30,
                          headers={"Authorization": "Bearer "
                                   + config(sandbox).credentials["token"].reveal()}).json()
    assert sorted(query(warehouse, "select date, sha256, events from "
                                   "raw_product.usage_partitions")) == sorted(
        (p["date"], p["sha256"], p["events"]) for p in listed["partitions"])


def test_reruns_fetch_only_new_partitions_and_match_a_fresh_load(sandbox: SandboxServer,
                                                                 world_copy: Path,
                                                                 warehouse: Warehouse) -> None:
    start = last_day(world_copy)
    loader = WarehouseLoader(warehouse)
    run(sandbox, loader, start_date=start)
    sandbox.reset_counts()
    unchanged = run(sandbox, loader, start_date=start)
    assert (unchanged.extracted, unchanged.loaded) == (0, 0)
    assert sandbox.request_counts("product") == {"product usage.partitions": 1,
                                                 "product survey_responses.list": 1}
    step(world_copy.parent, 1)
    new_day = last_day(world_copy)
    sandbox.reset_counts()
    stepped = run(sandbox, loader, start_date=start)
    assert sandbox.request_counts("product") == {"product usage.partitions": 1,
                                                 "product usage.partition_file": 1,
                                                 "product survey_responses.list": 1}
    assert stepped.table("usage_events").extracted == events_of(world_copy, new_day)
    run(sandbox, loader, name="product_fresh", start_date=start)
    for table in COMPARED:
        assert differing_rows(warehouse, table, "raw_product", "raw_product_fresh") == 0, table
        assert differing_rows(warehouse, table, "raw_product_fresh", "raw_product") == 0, table
    assert query(warehouse, "select count(*), count(distinct event_id) from "
                            "raw_product.usage_events") == [(events_of(world_copy, start,
                                                                       new_day),) * 2]


def _redeliver(world: Path, day: str) -> None:
    """Late events for `day`: one more active user and more feature use on one account, so
    the product renders the day's file afresh (new sha256, more events, same old ones)."""
    row = WorldReader(world).usage_rows(day)[0]
    feature = next(iter(row["feature_events"]))
    row["feature_events"][feature] += 25
    row["active_users"] += 1
    writer = WorldWriter(world)
    try:
        writer.put_usage([row])
    finally:
        writer.close()


def test_a_redelivered_partition_is_reloaded_without_double_counting(sandbox: SandboxServer,
                                                                     world_copy: Path,
                                                                     duckdb_path: Path) -> None:
    last = last_day(world_copy)
    start = day_before(last)
    warehouse = Warehouse("duckdb", duckdb_path)
    loader = WarehouseLoader(warehouse)
    run(sandbox, loader, start_date=start)
    before = events_of(world_copy, last)
    _redeliver(world_copy, last)
    after = events_of(world_copy, last)
    assert after == before + 25
    sandbox.reset_counts()
    again = run(sandbox, loader, start_date=start)
    assert sandbox.request_counts("product")["product usage.partition_file"] == 1
    assert again.table("usage_events").extracted == after
    assert query(warehouse, f"select count(*), count(distinct event_id) from raw_product."
                            f"usage_events where partition_date = '{last}'") == [(after, after)]
    assert query(warehouse, "select count(*), count(distinct event_id) from "
                            "raw_product.usage_events") == [(events_of(world_copy, start)
                                                             + after,) * 2]
    sandbox.reset_counts()
    assert run(sandbox, loader, start_date=start).loaded == 0
    assert "product usage.partition_file" not in sandbox.request_counts("product")


def test_429_storm_5xx_drops_and_corrupt_files_lose_nothing(world_copy: Path,
                                                            duckdb_path: Path) -> None:
    last = last_day(world_copy)
    start = day_before(last)
    with SandboxServer(world_copy, rate_limits={"product": RateLimit(5, 1.0)}) as server:
        faults(server, {"kind": "rate_limit", "count": 2, "seconds": 1},
               {"kind": "http_error", "status": 503, "count": 2},
               {"kind": "drop", "route": "usage.partitions", "count": 1},
               {"kind": "malformed", "route": "usage.partition_file", "count": 1},
               {"kind": "malformed", "route": "survey_responses.list", "count": 1})
        warehouse = Warehouse("duckdb", duckdb_path)
        report = run(server, WarehouseLoader(warehouse), start_date=start,
                     limiter=ClientRateLimiter(RateLimit(4, 1.0)), partitions_page_size=1,
                     survey_page_size=1,
                     retry=RetryPolicy(max_attempts=10, backoff_initial=0.01, backoff_max=0.05))
        http = report.http
        print(f"{http['requests']} requests, retries {http['retry_reasons']}, limiter waits "
              f"{http['rate_limit_waits']}; server rejected {server.limiter.rejected}")
        events = events_of(world_copy, start, last)
        assert report.table("usage_events").loaded == events
        assert report.table("survey_responses").loaded == surveys_since(world_copy, start)
        assert query(warehouse, "select count(*), count(distinct event_id) from "
                                "raw_product.usage_events") == [(events, events)]
        assert http["retry_reasons"] == {"429": 2, "503": 2, "ConnectionError": 1,
                                         "sha256 mismatch": 1, "invalid JSON body": 1}
        assert server.limiter.rejected == 0 and http["rate_limit_waits"] > 0


def _newest_survey_day(world: Path) -> str:
    newest = WorldReader(world).scan("product", "survey_responses", descending=True, limit=1)
    return newest[0][2]["updated_at"][:10]


def test_drift_fails_loudly_or_evolves(sandbox: SandboxServer, world_copy: Path,
                                      duckdb_path: Path) -> None:
    # From the newest answer's day, so the survey listing has a record to drift.
    start = _newest_survey_day(world_copy)
    loader = WarehouseLoader(Warehouse("duckdb", duckdb_path))
    expected = {
        ("drift_rename", "survey_responses.list", "workspace_id"):
            "product.survey_responses: field 'workspace_id' missing from every record of the "
            "page (renamed or removed upstream?)",
        ("drift_type", "survey_responses.list", "score"):
            "product.survey_responses: field 'score' changed type from integer to string in "
            "every record of the page",
        ("drift_rename", "usage.partitions", "sha256"):
            "product.usage_partitions: field 'sha256' missing from every record of the page "
            "(renamed or removed upstream?)",
    }
    for (kind, route, field), message in expected.items():
        faults(sandbox, {"kind": kind, "route": route, "field": field, "to": "renamed"})
        with pytest.raises(SchemaDriftError) as caught:
            run(sandbox, loader, start_date=start)
        assert str(caught.value) == message
    assert loader.stored_state("product") == {}        # no cursor moved past a failed page

    last = last_day(world_copy)
    faults(sandbox)
    assert run(sandbox, loader, start_date=last).table("usage_partitions").loaded == 1
    step(world_copy.parent, 1)
    faults(sandbox, {"kind": "drift_add", "route": "usage.partitions", "field": "region",
                     "value": "eu-west"})
    added = run(sandbox, loader, start_date=last)
    assert added.table("usage_partitions").new_columns == ("region",)
    assert added.table("usage_events").loaded == events_of(world_copy, last_day(world_copy))


def test_bad_lines_and_bad_events_are_quarantined(sandbox: SandboxServer, world_copy: Path,
                                                  duckdb_path: Path) -> None:
    day = last_day(world_copy)
    reader = WorldReader(world_copy)
    good = product_usage.render_day(reader, day).ndjson()
    bad_lines = (b'{"event_id": "evt_cut_sh\n'
                 b'["not", "an", "object"]\n'
                 b'{"event_id": "evt_no_user", "workspace_id": "ws_1", "feature": "api", '
                 b'"event_type": "feature_used", "occurred_at": "2026-10-31T00:00:00Z"}\n'
                 b'{"event_id": "evt_bad_time", "workspace_id": "ws_1", "user_id": "usr_1", '
                 b'"feature": "api", "event_type": "feature_used", "occurred_at": "yesterday"}\n')
    body = good + bad_lines
    fingerprint = product_usage.day_fingerprint(reader, day)
    assert fingerprint is not None
    # The product serves (and lists the sha256 of) what its render cache holds for the day:
    # seeding it is how a file with broken lines reaches the connector over real HTTP.
    cache = sandbox.vendors["product"]._partitions  # type: ignore[attr-defined]
    cache._items[(day, fingerprint)] = product_usage.Partition(
        day, body.count(b"\n"), hashlib.sha256(body).hexdigest(), body)
    warehouse = Warehouse("duckdb", duckdb_path)
    report = run(sandbox, WarehouseLoader(warehouse), start_date=day)
    good_events = good.count(b"\n")
    assert report.table("usage_events").loaded == good_events
    assert report.table("usage_events").quarantined == 4
    reasons = dict(query(warehouse, "select payload, reason from raw_product._quarantine "
                                    "where table_name = 'usage_events'"))
    assert reasons['{"event_id": "evt_cut_sh'].startswith("unparseable JSON: ")
    assert reasons['["not", "an", "object"]'] == "record is array, not a JSON object"
    no_user = next(p for p in reasons if "evt_no_user" in p)
    assert reasons[no_user] == "missing required field 'user_id'"
    bad_time = next(p for p in reasons if "evt_bad_time" in p)
    assert reasons[bad_time] == "field 'occurred_at' is not an ISO-8601 time with a zone"


def test_a_failed_download_commits_nothing_and_the_rerun_loads_everything_once(
        sandbox: SandboxServer, world_copy: Path, duckdb_path: Path) -> None:
    last = last_day(world_copy)
    start = day_before(last)
    warehouse = Warehouse("duckdb", duckdb_path)
    loader = WarehouseLoader(warehouse)
    faults(sandbox, {"kind": "http_error", "status": 500, "route": "usage.partition_file",
                     "count": 6})
    with pytest.raises(RetriesExhaustedError) as caught:
        run(sandbox, loader, start_date=start)
    assert str(caught.value) == (f"product: GET /product/v1/usage/partitions/{start}/events."
                                 f"ndjson failed after 6 attempts (last: HTTP 500)")
    assert loader.stored_state("product") == {}
    report = run(sandbox, loader, start_date=start)
    events = events_of(world_copy, start, last)
    assert report.table("usage_events").loaded == events
    assert query(warehouse, "select count(*), count(distinct event_id) from "
                            "raw_product.usage_events") == [(events, events)]
    digests = loader.stored_state("product")["sources"]["product"]["resources"][
        "partition_listing"]["partition_sha256"]
    assert sorted(digests) == [start, last]


@pytest.mark.parametrize("point", ["request:2", "normalize:1", "load:merge"])
def test_a_run_killed_anywhere_is_completed_by_the_next_one(sandbox: SandboxServer,
                                                            world_copy: Path,
                                                            duckdb_path: Path,
                                                            point: str) -> None:
    start = last_day(world_copy)
    warehouse = Warehouse("duckdb", duckdb_path)
    loader = WarehouseLoader(warehouse)
    run(sandbox, loader, start_date=start)
    step(world_copy.parent, 1)
    killed_run("product", sandbox.base_url, warehouse, point, start_date=start)
    run(sandbox, loader, start_date=start)
    run(sandbox, loader, name="product_fresh", start_date=start)
    for table in COMPARED:
        assert differing_rows(warehouse, table, "raw_product", "raw_product_fresh") == 0, table
        assert differing_rows(warehouse, table, "raw_product_fresh", "raw_product") == 0, table
    events = events_of(world_copy, start, last_day(world_copy))
    assert query(warehouse, "select count(*), count(distinct event_id) from "
                            "raw_product.usage_events") == [(events, events)]


def test_wrong_credentials_give_one_line_naming_the_source(sandbox: SandboxServer,
                                                           duckdb_path: Path) -> None:
    wrong = config(sandbox, CSP_PRODUCT_TOKEN="not-the-token")
    loader = WarehouseLoader(Warehouse("duckdb", duckdb_path))
    with pytest.raises(VendorHTTPError) as caught:
        loader.load(product_source(wrong, session=product_session(wrong, retry=FAST)))
    message = str(caught.value)
    assert message.startswith("product: GET /product/v1/")
    assert message.endswith(" answered HTTP 401 Unauthorized")
    assert "\n" not in message and "not-the-token" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.slow
def test_throughput_of_the_whole_small_company(sandbox: SandboxServer, world_copy: Path,
                                               duckdb_path: Path) -> None:
    """Every partition of the six-month history: prints events/s and requests/s."""
    warehouse = Warehouse("duckdb", duckdb_path)
    started = time.monotonic()
    report = run(sandbox, WarehouseLoader(warehouse), retry=RetryPolicy())
    seconds = time.monotonic() - started
    events = report.table("usage_events").loaded
    days = report.table("usage_partitions").loaded
    print(f"{events} events of {days} partitions in {seconds:.1f}s: {events / seconds:,.0f} "
          f"events/s; {report.http['requests']} requests, {report.http['requests'] / seconds:.2f}"
          f" requests/s against a limit of {config(sandbox).rate_limit}")
    assert query(warehouse, "select count(*), count(distinct event_id) from "
                            "raw_product.usage_events") == [(events, events)]
    assert days == len({row[0] for row in WorldReader(world_copy).conn.execute(
        "select day from usage_daily")})
