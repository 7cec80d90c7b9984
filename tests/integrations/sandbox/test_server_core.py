"""The sandbox server core over real HTTP: routing, auth, rate limits, faults, control API.

A minimal vendor defined here isolates the core from the real vendor modules (tested in their
own files): it authenticates a bearer token, lists records, and accepts writes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

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

TOKEN = "echo-token"


class Echo(Vendor):
    name = "echo"
    default_rate_limit = RateLimit(1000, 1.0)

    def routes(self) -> list[Route]:
        return [
            Route("GET", r"/items", self.list_items, "items.list"),
            Route("POST", r"/items/(?P<item_id>\w+)", self.write_item, "items.write", write=True),
            Route("GET", r"/broken", self.broken, "broken"),
            Route("GET", r"/invalid", self.invalid, "invalid"),
        ]

    def list_items(self, request: Request) -> Response:
        return json_response({"items": [{"id": "a", "amount": 5, "meta": {"domain": "x.com"}},
                                        {"id": "b", "amount": 7, "meta": {"domain": "y.com"}}]})

    def write_item(self, request: Request) -> Response:
        request.world.record_push(self.name, "item", request.params["item_id"], time.time(),
                                  request.json())
        return json_response({"ok": True}, status=201)

    def broken(self, request: Request) -> Response:
        raise RuntimeError(f"secret state {TOKEN}")

    def invalid(self, request: Request) -> Response:
        raise BadRequest("limit must be a number", code="bad_limit")

    def authenticate(self, request: Request) -> Response | None:
        if request.header("Authorization") == f"Bearer {TOKEN}":
            return None
        return json_response({"error": "who are you"}, status=401)

    def rate_limited(self, retry_after: float, limit: RateLimit) -> Response:
        return json_response({"error": "slow down"}, status=429,
                             headers={"Retry-After": str(max(1, round(retry_after)))})

    def rate_limit_headers(self, limit: RateLimit, remaining: int) -> dict[str, str]:
        return {"X-Limit-Remaining": str(remaining)}

    def error(self, status: int, message: str, code: str = "error") -> Response:
        return json_response({"error": {"code": code, "message": message}}, status=status)

    def records(self, body: Any) -> list[dict[str, Any]]:
        return body.get("items", []) if isinstance(body, dict) else []

    def load_fixture(self, kind: str, body: dict[str, Any], sink: Sink) -> None:
        raise ValueError("echo has no fixtures")


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    monkeypatch.setitem(vendors.VENDOR_CLASSES, "echo", Echo)
    world = tmp_path / "world.sqlite"
    writer = WorldWriter(world)
    writer.set_meta("clock", "2026-10-31")
    writer.close()
    with SandboxServer(world, rate_limits={"echo": RateLimit(5, 1.0)}) as running:
        yield running


def test_routes_answer_under_the_vendor_prefix(server: SandboxServer) -> None:
    response = requests.get(server.url("echo") + "/items", headers=AUTH, timeout=5)
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == ["a", "b"]
    assert response.headers["X-Limit-Remaining"] == "4"
    assert server.request_counts("echo") == {"echo items.list": 1}


def test_unknown_vendor_and_route(server: SandboxServer) -> None:
    assert requests.get(server.base_url + "/nope/x", timeout=5).status_code == 404
    missing = requests.get(server.url("echo") + "/missing", headers=AUTH, timeout=5)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_wrong_or_missing_credentials_get_the_vendor_401(server: SandboxServer) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = requests.get(server.url("echo") + "/items", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json() == {"error": "who are you"}


def test_handler_errors_use_the_vendor_error_shape_and_hide_internals(
        server: SandboxServer) -> None:
    invalid = requests.get(server.url("echo") + "/invalid", headers=AUTH, timeout=5)
    assert invalid.status_code == 400
    assert invalid.json()["error"] == {"code": "bad_limit", "message": "limit must be a number"}
    broken = requests.get(server.url("echo") + "/broken", headers=AUTH, timeout=5)
    assert broken.status_code == 500
    assert TOKEN not in broken.text


def test_rolling_window_rate_limit(server: SandboxServer) -> None:
    statuses = [requests.get(server.url("echo") + "/items", headers=AUTH, timeout=5).status_code
                for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    assert server.limiter.rejected == 2
    time.sleep(1.05)
    assert requests.get(server.url("echo") + "/items", headers=AUTH,
                        timeout=5).status_code == 200


def add_fault(server: SandboxServer, **spec: Any) -> requests.Response:
    return requests.post(server.base_url + "/_sandbox/faults", json={"vendor": "echo", **spec},
                         timeout=5)


def test_rate_limit_storm_then_recovery(server: SandboxServer) -> None:
    assert add_fault(server, kind="rate_limit", count=3, seconds=2).status_code == 201
    responses = [requests.get(server.url("echo") + "/items", headers=AUTH, timeout=5)
                 for _ in range(4)]
    assert [r.status_code for r in responses] == [429, 429, 429, 200]
    assert responses[0].headers["Retry-After"] == "2"


def test_server_errors_only_on_the_targeted_route(server: SandboxServer) -> None:
    add_fault(server, kind="http_error", status=502, route="items.write")
    read = requests.get(server.url("echo") + "/items", headers=AUTH, timeout=5)
    write = requests.post(server.url("echo") + "/items/z", json={}, headers=AUTH, timeout=5)
    assert (read.status_code, write.status_code) == (200, 502)
    assert server.world.pushed("echo") == []


def test_slow_responses(server: SandboxServer) -> None:
    add_fault(server, kind="slow", seconds=0.5, count=1)
    started = time.monotonic()
    requests.get(server.url("echo") + "/items", headers=AUTH, timeout=5)
    assert time.monotonic() - started >= 0.5
    with pytest.raises(requests.exceptions.ReadTimeout):
        add_fault(server, kind="slow", seconds=1.0, count=1)
        requests.get(server.url("echo") + "/items", headers=AUTH, timeout=0.3)


def test_dropped_connection_after_the_write_was_accepted(server: SandboxServer) -> None:
    add_fault(server, kind="drop", route="items.write", count=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(server.url("echo") + "/items/k1", json={"n": 1}, headers=AUTH, timeout=5)
    pushed = server.world.pushed("echo", "item")
    assert [(p["key"], p["body"]) for p in pushed] == [("k1", {"n": 1})]


def test_malformed_page(server: SandboxServer) -> None:
    add_fault(server, kind="malformed", count=1)
    response = requests.get(server.url("echo") + "/items", headers=AUTH, timeout=5)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert requests.get(server.url("echo") + "/items", headers=AUTH, timeout=5).json()


def test_schema_drift_new_renamed_and_retyped_fields(server: SandboxServer) -> None:
    add_fault(server, kind="drift_add", field="churn_flag", value=True)
    add_fault(server, kind="drift_rename", field="meta.domain", to="website")
    add_fault(server, kind="drift_type", field="amount")
    items = requests.get(server.url("echo") + "/items", headers=AUTH, timeout=5).json()["items"]
    assert items[0] == {"id": "a", "amount": "5", "meta": {"website": "x.com"},
                        "churn_flag": True}


def test_probabilistic_faults_are_repeatable(server: SandboxServer) -> None:
    def statuses() -> list[int]:
        add_fault(server, kind="http_error", status=500, probability=0.5)
        seen = [requests.get(server.url("echo") + "/items", headers=AUTH, timeout=5).status_code
                for _ in range(8)]
        requests.delete(server.base_url + "/_sandbox/faults", timeout=5)
        return seen

    server.rate_limits["echo"] = RateLimit(1000, 1.0)
    first = statuses()
    assert set(first) == {200, 500}
    assert statuses() == first


def test_control_api(server: SandboxServer) -> None:
    bad = add_fault(server, kind="meteor")
    assert bad.status_code == 400
    assert "unknown fault kind 'meteor'" in bad.json()["error"]
    assert add_fault(server, kind="drift_rename", field="x").json()["error"] == (
        "fault drift_rename needs 'to' (the new field name)")
    add_fault(server, kind="slow", seconds=0.01)
    assert len(requests.get(server.base_url + "/_sandbox/faults", timeout=5).json()["faults"]) == 1
    requests.delete(server.base_url + "/_sandbox/faults", timeout=5)
    assert requests.get(server.base_url + "/_sandbox/faults", timeout=5).json()["faults"] == []
    health = requests.get(server.base_url + "/_sandbox/health", timeout=5).json()
    assert health["clock"] == "2026-10-31"
    assert "echo" in health["vendors"]
    requests.get(server.url("echo") + "/items", headers=AUTH, timeout=5)
    counts = requests.get(server.base_url + "/_sandbox/requests", timeout=5).json()
    assert counts["requests"]["echo items.list"] == 1
