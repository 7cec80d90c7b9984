"""Contracts: quarantine of bad records, failure on upstream drift, new columns reported.

Unit tests pin the exact reasons and messages; the end-to-end tests drive the sandbox's drift
and malformed-page faults through the shared session, a contract and the loader into a real
warehouse (DuckDB, and PostgreSQL where the warehouse matters).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import pytest
import requests

from csp.warehouse import Warehouse
from integrations.contracts import (
    QUARANTINE_TABLE,
    Contract,
    SchemaDriftError,
    Unparsed,
    apply_contract,
    json_type,
    parse_json_lines,
)
from integrations.http import RetryPolicy, create_session
from integrations.loader import LoadReport, WarehouseLoader
from integrations.sandbox.server import SandboxServer
from tests.integrations.echo_vendor import (
    AUTH,
    ITEMS_CONTRACT,
    echo_sandbox,
    echo_source,
    echo_vendor,
    make_items,
    make_warehouse,
    query,
)

SEEN = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
GOOD = {"id": "a", "updated": 1, "amount": 5, "customer": "cus_1", "meta": {"domain": "x.io"}}
CONTRACT = Contract("stripe", "subscriptions", required={
    "id": "string", "customer": "string", "amount": ("integer", "null"),
    "meta.domain": "string"})


def record(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


# -- unit: records and pages ---------------------------------------------------------------

def test_valid_records_pass_and_bad_ones_are_quarantined_with_reasons() -> None:
    no_customer = {k: v for k, v in GOOD.items() if k != "customer"}
    page = CONTRACT.check_page([GOOD, no_customer, record(amount="5"), record(amount=None),
                                record(meta={}), ["not", "an", "object"],
                                Unparsed('{"id": "z",', "Expecting value")], seen_at=SEEN)
    assert page.valid == [GOOD, record(amount=None)]
    assert [q["reason"] for q in page.quarantined] == [
        "missing required field 'customer'",
        "field 'amount' is string, expected integer or null",
        "missing required field 'meta.domain'",
        "record is array, not a JSON object",
        "unparseable JSON: Expecting value",
    ]
    first = page.quarantined[0]
    assert first["source"] == "stripe" and first["table_name"] == "subscriptions"
    assert json.loads(first["payload"]) == no_customer and first["seen_at"] == SEEN
    assert page.quarantined[-1]["payload"] == '{"id": "z",'


def test_several_problems_of_one_record_are_all_named() -> None:
    reason = CONTRACT.problem({"id": 7, "amount": 1.5})
    assert reason == ("field 'id' is integer, expected string; missing required field "
                      "'customer'; field 'amount' is number, expected integer or null; "
                      "missing required field 'meta.domain'")


def test_quarantine_id_is_stable_so_a_reextract_merges() -> None:
    bad = record(amount="x")
    first = CONTRACT.check_page([GOOD, bad], seen_at=SEEN).quarantined[0]
    again = CONTRACT.check_page([bad, GOOD]).quarantined[0]
    assert first["quarantine_id"] == again["quarantine_id"]
    other_table = Contract("stripe", "invoices", CONTRACT.required)
    assert other_table.check_page([GOOD, bad]).quarantined[0]["quarantine_id"] != \
        first["quarantine_id"]


def test_field_missing_from_every_record_fails_the_run() -> None:
    renamed = [{**{k: v for k, v in record(id=i).items() if k != "customer"}, "client": "c"}
               for i in ("a", "b")]
    with pytest.raises(SchemaDriftError) as caught:
        CONTRACT.check_page(renamed)
    assert str(caught.value) == ("stripe.subscriptions: field 'customer' missing from every "
                                 "record of the page (renamed or removed upstream?)")
    assert (caught.value.source, caught.value.table, caught.value.field) == (
        "stripe", "subscriptions", "customer")


def test_nested_field_missing_from_every_record_fails_the_run() -> None:
    with pytest.raises(SchemaDriftError, match=r"^stripe\.subscriptions: field 'meta\.domain' "
                       r"missing from every record of the page \(renamed or removed upstream\?\)$"):
        CONTRACT.check_page([record(meta={"website": "x.io"}), record(meta=None)])


def test_type_changed_in_every_record_fails_the_run() -> None:
    with pytest.raises(SchemaDriftError) as caught:
        CONTRACT.check_page([record(amount="5"), record(amount="7.5")])
    assert str(caught.value) == ("stripe.subscriptions: field 'amount' changed type from "
                                 "integer or null to string in every record of the page")


def test_mixed_pages_quarantine_instead_of_failing() -> None:
    page = CONTRACT.check_page([record(amount="5"), GOOD, {"id": "q"}])
    assert len(page.valid) == 1 and len(page.quarantined) == 2
    assert CONTRACT.check_page([]).valid == []


def test_integers_are_numbers_but_booleans_are_not() -> None:
    contract = Contract("s", "t", required={"n": "number", "b": "boolean"})
    assert contract.problem({"n": 3, "b": True}) is None
    assert contract.problem({"n": True, "b": 1}) == (
        "field 'n' is boolean, expected number; field 'b' is integer, expected boolean")
    assert [json_type(v) for v in (None, 1, 1.0, "", {}, [], False)] == [
        "null", "integer", "number", "string", "object", "array", "boolean"]


def test_contract_rejects_unknown_types() -> None:
    with pytest.raises(ValueError, match=r"s\.t: field 'n' declares unknown JSON type\(s\) "
                                         r"\['int'\]"):
        Contract("s", "t", required={"n": "int"})


def test_ndjson_lines_that_do_not_parse_become_quarantine_rows() -> None:
    lines = [b'{"id": "a", "updated": 1, "amount": 1, "customer": "c"}\n', b"\n",
             b'{"id": "b", "upd\n']
    records = parse_json_lines(lines)
    assert isinstance(records[1], Unparsed)
    page = ITEMS_CONTRACT.check_page(records, seen_at=SEEN)
    assert [r["id"] for r in page.valid] == ["a"]
    assert page.quarantined[0]["reason"] == (
        "unparseable JSON: Unterminated string starting at: line 1 column 13 (char 12)")
    assert page.quarantined[0]["payload"] == '{"id": "b", "upd'


def test_an_incremental_that_would_drop_quarantine_rows_is_refused(tmp_path: Path) -> None:
    @dlt.resource(name="items", primary_key="id")
    def items(updated: dlt.sources.incremental[int] = dlt.sources.incremental(  # noqa: B008
            "updated", initial_value=0)) -> Iterator[list[dict[str, Any]]]:
        yield [{"id": "a", "updated": 1, "amount": 1, "customer": "c"}, {"id": "b"}]

    pipeline = dlt.pipeline(pipeline_name="refuse", pipelines_dir=str(tmp_path))
    with pytest.raises(Exception) as caught:
        pipeline.extract(apply_contract(items(), ITEMS_CONTRACT))
    assert "on_cursor_value_missing='include'" in str(caught.value)


# -- end to end through the sandbox, the session and the loader ------------------------------

@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with echo_sandbox(tmp_path) as running:
        echo_vendor(running).put(*make_items(30))
        yield running


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, duckdb_path: Path) -> Warehouse:
    return make_warehouse(request.param, duckdb_path, request)


def fault(server: SandboxServer, **spec: Any) -> None:
    response = requests.post(server.base_url + "/_sandbox/faults",
                             json={"vendor": "echo", **spec}, timeout=5)
    assert response.status_code == 201, response.text


def run(server: SandboxServer, loader: WarehouseLoader) -> LoadReport:
    session = create_session("echo", headers=AUTH,
                             retry=RetryPolicy(backoff_initial=0.01, backoff_max=0.05))
    report = loader.load(echo_source(session, server.url("echo"), page_size=10),
                         http_stats=session.stats.snapshot)
    print(report)
    return report


def test_bad_records_are_quarantined_once_and_counted(server: SandboxServer,
                                                      warehouse: Warehouse) -> None:
    echo_vendor(server).put({"id": "bad1", "updated": 200, "amount": "ten", "customer": "c"},
                           {"id": "bad2", "amount": 3, "customer": "c"})
    loader = WarehouseLoader(warehouse)
    report = run(server, loader)
    assert (report.table("items").loaded, report.table("items").quarantined) == (30, 2)
    rows = query(warehouse, f"select table_name, reason, payload, source from "
                            f"raw_echo.{QUARANTINE_TABLE} order by reason")
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("items", "field 'amount' is string, expected integer", "echo"),
        ("items", "missing required field 'updated'", "echo")]
    assert json.loads(rows[1][2]) == {"id": "bad2", "amount": 3, "customer": "c"}
    echo_vendor(server).put(*make_items(1, start=40, updated=300))
    report = run(server, loader)
    assert report.table("items").quarantined == 1      # bad1 (updated 200) came again
    assert query(warehouse, f"select count(*) from raw_echo.{QUARANTINE_TABLE}") == [(2,)]
    assert query(warehouse, "select count(*) from raw_echo.items") == [(31,)]


def test_renamed_field_fails_the_run_and_moves_no_cursor(server: SandboxServer,
                                                        duckdb_path: Path) -> None:
    loader = WarehouseLoader(Warehouse("duckdb", duckdb_path))
    fault(server, kind="drift_rename", field="customer", to="client")
    with pytest.raises(SchemaDriftError) as caught:
        run(server, loader)
    assert str(caught.value) == ("echo.items: field 'customer' missing from every record of "
                                 "the page (renamed or removed upstream?)")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert loader.stored_state("echo") == {}
    requests.delete(server.base_url + "/_sandbox/faults", timeout=5)
    assert run(server, loader).table("items").loaded == 30


def test_type_change_fails_the_run(server: SandboxServer, duckdb_path: Path) -> None:
    loader = WarehouseLoader(Warehouse("duckdb", duckdb_path))
    fault(server, kind="drift_type", field="amount")
    with pytest.raises(SchemaDriftError) as caught:
        run(server, loader)
    assert str(caught.value) == ("echo.items: field 'amount' changed type from integer to "
                                 "string in every record of the page")


def test_new_field_is_loaded_as_a_column_and_reported(server: SandboxServer,
                                                     warehouse: Warehouse) -> None:
    loader = WarehouseLoader(warehouse)
    first = run(server, loader)
    assert first.table("items").new_table and first.table("items").new_columns == ()
    fault(server, kind="drift_add", field="churn_flag", value=True)
    echo_vendor(server).put(*make_items(3, start=30, updated=500))
    report = run(server, loader)
    assert report.table("items").new_columns == ("churn_flag",)
    assert "churn_flag" in str(report)
    assert query(warehouse, "select count(*) from raw_echo.items where churn_flag") == [(3,)]


def test_malformed_page_is_refetched_and_nothing_is_lost(server: SandboxServer,
                                                        duckdb_path: Path) -> None:
    fault(server, kind="malformed", route="items.list", count=1)
    report = run(server, WarehouseLoader(Warehouse("duckdb", duckdb_path)))
    assert report.table("items").loaded == 30 and report.quarantined == 0
    assert report.http["retry_reasons"] == {"invalid JSON body": 1}


def test_undeclared_field_that_changes_type_fails_and_rewinds(server: SandboxServer,
                                                             warehouse: Warehouse) -> None:
    """dlt's frozen data types guard the fields no contract names (here `seats`)."""
    vendor = echo_vendor(server)
    vendor.put(*[{**item, "seats": 5} for item in make_items(30)])
    loader = WarehouseLoader(warehouse)
    run(server, loader)
    cursor = loader.stored_state("echo")["sources"]["echo"]["resources"]["items"]
    vendor.put({**make_items(1, start=50, updated=900)[0], "seats": "many"})
    with pytest.raises(SchemaDriftError) as caught:
        run(server, loader)
    assert str(caught.value) == ("echo.items: field 'seats' changed type from bigint to text "
                                 "(values no longer fit the column; data types are frozen)")
    assert loader.stored_state("echo")["sources"]["echo"]["resources"]["items"] == cursor
    with pytest.raises(SchemaDriftError):
        run(server, loader)            # the local cursor was rewound too: it fails again
    vendor.put({**make_items(1, start=50, updated=901)[0], "seats": 6})
    assert run(server, loader).table("items").loaded == 1
    assert query(warehouse, "select seats from raw_echo.items where id = 'i0050'") == [(6,)]
