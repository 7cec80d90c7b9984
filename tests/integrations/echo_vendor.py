"""A tiny vendor for the ingestion-layer tests: served by the real sandbox server core.

`EchoVendor` lists items incrementally (`updated_since`, keyset cursor, `has_more`) and accepts
writes deduplicated by `Idempotency-Key`, like a real API; its data lives in memory so a test
can change it between runs. `echo_sandbox()` starts a `SandboxServer` with it mounted at
`/echo`, and `echo_source()` is a minimal dlt source over it built on the shared HTTP session
and a contract — what a real vendor package looks like, minus the vendor.
"""

from __future__ import annotations

import copy
import email.utils
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dlt
from dlt.extract import DltResource, DltSource

from csp.settings import Secret
from csp.warehouse import Warehouse
from integrations.contracts import Contract, apply_contract
from integrations.http import VendorSession
from integrations.sandbox import vendors
from integrations.sandbox.routing import (
    BadRequest,
    RateLimit,
    Request,
    Response,
    Route,
    Vendor,
    json_response,
)
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.store import Sink, WorldWriter

TOKEN = "echo-ingest-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ITEMS_CONTRACT = Contract("echo", "items", required={
    "id": "string", "updated": "integer", "amount": "integer", "customer": "string"})


class EchoVendor(Vendor):
    """An in-memory vendor: `GET /items` pages by (updated, id); `POST /items/<id>` writes."""

    name = "echo"
    default_rate_limit = RateLimit(1000, 1.0)

    def __init__(self, secrets: Any) -> None:
        super().__init__(secrets)
        self.items: dict[str, dict[str, Any]] = {}
        self.writes: list[tuple[str, dict[str, Any]]] = []
        self.retry_after_as_date = False
        self._answers: dict[str, Response] = {}
        self._lock = threading.Lock()

    def put(self, *records: dict[str, Any]) -> None:
        with self._lock:
            for record in records:
                self.items[str(record["id"])] = dict(record)

    def routes(self) -> list[Route]:
        return [Route("GET", r"/items", self.list_items, "items.list"),
                Route("POST", r"/items/(?P<item_id>\w+)", self.write_item, "items.write",
                      write=True)]

    def list_items(self, request: Request) -> Response:
        since = request.int_arg("updated_since", 0)
        limit = request.int_arg("limit", 100, minimum=1, maximum=1000)
        after = _parse_cursor(request.arg("after"))
        with self._lock:     # copies: drift faults edit the response's records in place
            ordered = sorted((copy.deepcopy(r) for r in self.items.values()
                              if _updated(r) >= since), key=_position)
        page = [r for r in ordered if after is None or _position(r) > after][:limit + 1]
        has_more = len(page) > limit
        page = page[:limit]
        cursor = f"{_updated(page[-1])}:{page[-1].get('id')}" if page and has_more else None
        return json_response({"items": page, "has_more": has_more, "next_cursor": cursor})

    def write_item(self, request: Request) -> Response:
        key = request.header("Idempotency-Key")
        with self._lock:
            if key and key in self._answers:
                return self._answers[key]
            self.writes.append((request.params["item_id"], request.json()))
            answer = json_response({"ok": True, "writes": len(self.writes)}, status=201)
            if key:
                self._answers[key] = answer
            return answer

    def authenticate(self, request: Request) -> Response | None:
        if request.header("Authorization") == AUTH["Authorization"]:
            return None
        return json_response({"error": "invalid token"}, status=401)

    def rate_limited(self, retry_after: float, limit: RateLimit) -> Response:
        if self.retry_after_as_date:
            value = email.utils.formatdate(time.time() + retry_after, usegmt=True)
        else:
            value = str(max(1, round(retry_after)))
        return json_response({"error": "rate limited"}, status=429,
                             headers={"Retry-After": value})

    def error(self, status: int, message: str, code: str = "error") -> Response:
        return json_response({"error": {"code": code, "message": message}}, status=status)

    def records(self, body: Any) -> list[dict[str, Any]]:
        return body.get("items", []) if isinstance(body, dict) else []

    def load_fixture(self, kind: str, body: dict[str, Any], sink: Sink) -> None:
        raise ValueError("echo has no fixtures")


def _updated(record: dict[str, Any]) -> int:
    value = record.get("updated")
    return value if isinstance(value, int) else 0


def _position(record: dict[str, Any]) -> tuple[int, str]:
    return _updated(record), str(record.get("id"))


def _parse_cursor(raw: str | None) -> tuple[int, str] | None:
    if not raw:
        return None
    updated, _, item_id = raw.partition(":")
    try:
        return int(updated), item_id
    except ValueError:
        raise BadRequest("after must be a cursor from next_cursor", code="bad_cursor") from None


@contextmanager
def echo_sandbox(world_dir: Path, *, rate_limit: RateLimit | None = None,
                 ) -> Iterator[SandboxServer]:
    """A running sandbox with `EchoVendor` at `/echo` (registered only while it runs)."""
    world = world_dir / "world.sqlite"
    writer = WorldWriter(world)
    writer.set_meta("clock", "2026-10-31")
    writer.close()
    previous = vendors.VENDOR_CLASSES.get("echo")
    vendors.VENDOR_CLASSES["echo"] = EchoVendor
    try:
        limits = {"echo": rate_limit} if rate_limit else None
        with SandboxServer(world, rate_limits=limits) as server:
            yield server
    finally:
        if previous is None:
            vendors.VENDOR_CLASSES.pop("echo", None)
        else:
            vendors.VENDOR_CLASSES["echo"] = previous


def echo_vendor(server: SandboxServer) -> EchoVendor:
    vendor = server.vendors["echo"]
    assert isinstance(vendor, EchoVendor)
    return vendor


def make_items(count: int, *, start: int = 0, updated: int = 100) -> list[dict[str, Any]]:
    """`count` valid items with ids i0000.. and `updated` counting up from `updated`."""
    return [{"id": f"i{n:04d}", "updated": updated + n, "amount": n * 10,
             "customer": f"cus_{n % 7}", "meta": {"domain": f"d{n}.example"}}
            for n in range(start, start + count)]


def items_resource(session: VendorSession, base_url: str, page_size: int) -> DltResource:
    """The echo `items` resource: incremental on `updated`, merge on `id`, under a contract."""

    # dlt's idiom: the incremental is declared as the argument's default (B008 by design).
    @dlt.resource(name="items", primary_key="id", write_disposition="merge")
    def items(updated: dlt.sources.incremental[int] = dlt.sources.incremental(  # noqa: B008
            "updated", initial_value=0, on_cursor_value_missing="include"),
              ) -> Iterator[list[dict[str, Any]]]:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"updated_since": updated.start_value, "limit": page_size}
            if cursor:
                params["after"] = cursor
            page = session.ensure_ok(session.get(f"{base_url}/items", params=params))
            body = page.json()
            yield body["items"]
            if not body["has_more"]:
                return
            cursor = body["next_cursor"]

    return apply_contract(items(), ITEMS_CONTRACT)


def echo_source(session: VendorSession, base_url: str, *, page_size: int = 50,
                name: str = "echo") -> DltSource:
    """A dlt source (named `echo` unless told) with one resource, `items`."""

    @dlt.source(name=name)
    def source() -> DltResource:
        return items_resource(session, base_url, page_size)

    return source()


def make_warehouse(engine: str, duckdb_path: Path, request: Any) -> Warehouse:
    """A `Warehouse` on `engine`; PostgreSQL gets a fresh database from the suite's fixture."""
    if engine == "duckdb":
        return Warehouse("duckdb", duckdb_path)
    return Warehouse("postgres", duckdb_path, Secret(request.getfixturevalue("postgres_dsn")))


def query(warehouse: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` on the warehouse, through a connection closed straight after."""
    connection = warehouse.connect()
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        connection.close()
