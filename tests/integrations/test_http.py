"""The shared HTTP session over real HTTP against the sandbox server core and its faults.

Waits are measured on the wall clock; retry policies are shortened so each test takes a few
seconds at most, except where honouring a whole-second `Retry-After` is the point.
"""

from __future__ import annotations

import logging
import queue
import random
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from integrations.http import (
    AmbiguousWriteError,
    RetriesExhaustedError,
    RetryPolicy,
    VendorHTTPError,
    VendorRequestError,
    VendorSession,
    create_session,
    parse_retry_after,
)
from integrations.ratelimit import ClientRateLimiter
from integrations.sandbox.routing import RateLimit
from integrations.sandbox.server import SandboxServer
from tests.integrations.echo_vendor import AUTH, TOKEN, echo_sandbox, echo_vendor, make_items

FAST = RetryPolicy(max_attempts=6, backoff_initial=0.05, backoff_max=0.5)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with echo_sandbox(tmp_path) as running:
        echo_vendor(running).put(*make_items(5))
        yield running


def fault(server: SandboxServer, **spec: Any) -> None:
    response = requests.post(server.base_url + "/_sandbox/faults",
                             json={"vendor": "echo", **spec}, timeout=5)
    assert response.status_code == 201, response.text


def items_url(server: SandboxServer) -> str:
    return server.url("echo") + "/items"


def write_url(server: SandboxServer, item_id: str = "k1") -> str:
    return f"{server.url('echo')}/items/{item_id}"


def test_a_call_without_timeout_gets_the_default_one(server: SandboxServer) -> None:
    session = create_session("echo", headers=AUTH, timeout=(2.0, 0.3),
                             retry=RetryPolicy(max_attempts=2, backoff_initial=0.01))
    fault(server, kind="slow", seconds=1.0, count=2)
    started = time.monotonic()
    with pytest.raises(RetriesExhaustedError) as caught:
        session.get(items_url(server))          # no timeout= given
    assert time.monotonic() - started < 1.2
    assert str(caught.value) == (
        "echo: GET /echo/items failed after 2 attempts (last: ReadTimeout, no response)")


def test_429_storm_survived_honouring_retry_after_with_jitter(server: SandboxServer) -> None:
    fault(server, kind="rate_limit", count=2, seconds=1)
    session = create_session("echo", headers=AUTH, retry=FAST)
    started = time.monotonic()
    response = session.get(items_url(server), params={"limit": 2})
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and len(response.json()["items"]) == 2
    waits = list(session.stats.recent_waits)
    print(f"Retry-After: 1 -> waits {[round(w, 3) for w in waits]}, total {elapsed:.2f}s")
    assert len(waits) == 2 and all(1.0 <= wait <= 1.1 for wait in waits)
    assert len(set(waits)) == 2                          # jittered, not identical
    assert elapsed >= 2.0
    stats = session.stats.snapshot()
    assert (stats["requests"], stats["retries"], stats["statuses"]) == (3, 2, {429: 2, 200: 1})
    assert stats["retry_reasons"] == {"429": 2}


def test_retry_after_as_an_http_date(server: SandboxServer) -> None:
    echo_vendor(server).retry_after_as_date = True
    fault(server, kind="rate_limit", count=1, seconds=2)
    session = create_session("echo", headers=AUTH, retry=FAST)
    started = time.monotonic()
    assert session.get(items_url(server)).status_code == 200
    elapsed = time.monotonic() - started
    (wait,) = session.stats.recent_waits
    print(f"Retry-After as a date 2s ahead (whole seconds) -> waited {wait:.3f}s")
    assert 1.0 <= wait <= 2.2 and elapsed >= wait


def test_parse_retry_after() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Fri, 15 Jan 2027 08:00:05 GMT", now=1_800_000_000.0) == 5.0
    assert parse_retry_after("Fri, 15 Jan 2027 07:00:00 GMT", now=now) == 0.0   # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None and parse_retry_after(None) is None


def test_retry_after_is_capped(server: SandboxServer) -> None:
    fault(server, kind="rate_limit", count=1, seconds=30)
    session = create_session("echo", headers=AUTH,
                             retry=RetryPolicy(retry_after_max=0.2, backoff_initial=0.01))
    started = time.monotonic()
    assert session.get(items_url(server)).status_code == 200
    assert list(session.stats.recent_waits) == [0.2]
    assert time.monotonic() - started < 1.0


def test_5xx_burst_backs_off_exponentially_with_jitter(server: SandboxServer) -> None:
    fault(server, kind="http_error", status=503, count=4)
    session = create_session("echo", headers=AUTH, retry=FAST)
    assert session.get(items_url(server)).status_code == 200
    waits = list(session.stats.recent_waits)
    print(f"503 x4 -> backoffs {[round(w, 3) for w in waits]}")
    for retry, wait in enumerate(waits, start=1):
        ceiling = FAST.backoff_initial * 2 ** (retry - 1)
        assert ceiling / 2 <= wait <= ceiling
    assert len(set(waits)) == 4
    assert session.stats.statuses == {503: 4, 200: 1}
    fault(server, kind="http_error", status=503, count=4)
    other = create_session("echo", headers=AUTH, retry=FAST)
    assert other.get(items_url(server)).status_code == 200
    assert list(other.stats.recent_waits) != waits       # two clients do not retry in step


def test_retries_are_bounded_and_the_error_hides_secrets(
        server: SandboxServer, caplog: pytest.LogCaptureFixture) -> None:
    fault(server, kind="http_error", status=502)
    session = create_session("echo", headers=AUTH,
                             retry=RetryPolicy(max_attempts=3, backoff_initial=0.01))
    with caplog.at_level(logging.DEBUG), pytest.raises(RetriesExhaustedError) as caught:
        session.get(items_url(server), params={"api_key": "sk_live_SECRET"})
    error = caught.value
    assert str(error) == "echo: GET /echo/items failed after 3 attempts (last: HTTP 502)"
    assert (error.vendor, error.status, error.attempts) == ("echo", 502, 3)
    assert server.request_counts("echo") == {"echo items.list": 3}
    for text in (str(error), repr(error), caplog.text):
        assert "sk_live_SECRET" not in text and TOKEN not in text
    assert "echo: GET /echo/items -> 502; retry 1 of 2" in caplog.text


def test_dropped_connection_is_retried_for_reads(server: SandboxServer) -> None:
    fault(server, kind="drop", route="items.list", count=1)
    session = create_session("echo", headers=AUTH, retry=FAST)
    assert len(session.get(items_url(server)).json()["items"]) == 5
    assert session.stats.retry_reasons == {"ConnectionError": 1}


def test_dropped_write_is_not_resent_blindly(server: SandboxServer) -> None:
    fault(server, kind="drop", route="items.write", count=1)
    session = create_session("echo", headers=AUTH, retry=FAST)
    with pytest.raises(AmbiguousWriteError) as caught:
        session.post(write_url(server), json={"n": 1})
    assert str(caught.value) == (
        "echo: POST /echo/items/k1 may or may not have been applied (last: ConnectionError, "
        "no response); not resent because the call is not marked idempotent")
    assert echo_vendor(server).writes == [("k1", {"n": 1})]     # it *was* applied, once
    assert session.stats.requests == 1


def test_write_with_idempotency_key_is_resent_and_applied_once(server: SandboxServer) -> None:
    fault(server, kind="drop", route="items.write", count=1)
    session = create_session("echo", headers=AUTH, retry=FAST)
    response = session.post(write_url(server), json={"n": 2},
                            headers={"Idempotency-Key": "task-42"})
    assert response.status_code == 201
    assert echo_vendor(server).writes == [("k1", {"n": 2})]
    assert session.stats.requests == 2 and session.stats.retry_reasons == {"ConnectionError": 1}


def test_caller_can_mark_a_write_idempotent(server: SandboxServer) -> None:
    fault(server, kind="drop", route="items.write", count=1)
    session = create_session("echo", headers=AUTH, retry=FAST)
    response = session.post(write_url(server), json={"n": 6}, idempotent=True)
    assert response.status_code == 201
    assert session.stats.retry_reasons == {"ConnectionError": 1}
    # Resent on the caller's word: without a key the vendor applied it twice.
    assert echo_vendor(server).writes == [("k1", {"n": 6}), ("k1", {"n": 6})]


def test_read_timeout_on_a_write_is_ambiguous(server: SandboxServer) -> None:
    fault(server, kind="slow", route="items.write", seconds=0.6, count=1)
    session = create_session("echo", headers=AUTH, timeout=(2.0, 0.3), retry=FAST)
    with pytest.raises(AmbiguousWriteError, match=r"\(last: ReadTimeout, no response\)"):
        session.post(write_url(server), json={"n": 3})
    time.sleep(0.5)
    assert echo_vendor(server).writes == [("k1", {"n": 3})]   # the server did apply it


def test_5xx_on_a_write_is_ambiguous_but_429_is_resent(server: SandboxServer) -> None:
    fault(server, kind="http_error", status=500, route="items.write", count=1)
    session = create_session("echo", headers=AUTH,
                             retry=RetryPolicy(retry_after_max=0.05, backoff_initial=0.01))
    with pytest.raises(AmbiguousWriteError, match=r"\(last: HTTP 500\)"):
        session.post(write_url(server), json={"n": 4})
    fault(server, kind="rate_limit", route="items.write", count=1, seconds=1)
    assert session.post(write_url(server), json={"n": 5}).status_code == 201
    assert echo_vendor(server).writes == [("k1", {"n": 5})]


def test_refused_connection_is_resent_even_for_a_write() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = create_session("echo", retry=RetryPolicy(max_attempts=2, backoff_initial=0.01))
    with pytest.raises(RetriesExhaustedError) as caught:
        session.post(f"http://127.0.0.1:{port}/items/k1?token=SECRET", json={})
    assert str(caught.value) == ("echo: POST /items/k1 failed after 2 attempts "
                                 "(last: ConnectionError, no response)")
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_truncated_body_is_retried() -> None:
    """A body shorter than its Content-Length (a connection cut mid-page) is re-fetched."""
    whole = b'{"items": [1, 2, 3]}'
    served: list[int] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def serve() -> None:
            for attempt in range(2):
                connection, _ = listener.accept()
                with connection:
                    connection.recv(65536)
                    body = whole[:8] if attempt == 0 else whole
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                       + f"Content-Length: {len(whole)}\r\n".encode()
                                       + b"Connection: close\r\n\r\n" + body)
                served.append(attempt)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        session = create_session("echo", retry=FAST)
        assert session.get(f"http://127.0.0.1:{port}/items").json() == {"items": [1, 2, 3]}
        thread.join(timeout=5)
    assert served == [0, 1]
    assert session.stats.retry_reasons == {"ChunkedEncodingError (truncated body)": 1}


def test_malformed_json_page_is_refetched(server: SandboxServer) -> None:
    fault(server, kind="malformed", route="items.list", count=1)
    session = create_session("echo", headers=AUTH, retry=FAST)
    assert len(session.get(items_url(server)).json()["items"]) == 5
    assert session.stats.retry_reasons == {"invalid JSON body": 1}


def test_error_statuses_name_the_vendor_without_query_or_secret_path(
        server: SandboxServer, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Other libraries in the same process (dbt, Prefect) reconfigure logging; make sure
    # urllib3's debug line reaches the capture, so the redaction is really exercised.
    for name in ("urllib3", "urllib3.connectionpool"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    session = create_session("echo", headers={"Authorization": "Bearer wrong"})
    response = session.get(items_url(server), params={"token": "SECRET"})
    with pytest.raises(VendorHTTPError) as caught:
        session.ensure_ok(response)
    assert str(caught.value) == "echo: GET /echo/items answered HTTP 401 Unauthorized"
    hook = create_session("echo", headers=AUTH, secret_path=True)
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"), \
            pytest.raises(VendorHTTPError) as caught:
        hook.ensure_ok(hook.post(server.url("echo") + "/T000/B000/XXXX", json={}))
    assert str(caught.value) == "echo: POST /echo/*** answered HTTP 404 Not Found"
    assert '"POST /*** HTTP/1.1" 404' in caplog.text       # urllib3's own debug line
    assert "XXXX" not in caplog.text


@pytest.mark.parametrize("client_limit", [18, 20])
def test_client_limiter_keeps_the_vendor_under_its_limit(tmp_path: Path,
                                                         client_limit: int) -> None:
    """The server allows 20/s; a client limited to 18 or 20 per second (counted over the
    window plus the default 50 ms margin) in 3 threads is never rejected."""
    with echo_sandbox(tmp_path, rate_limit=RateLimit(20, 1.0)) as server:
        burst = [requests.get(items_url(server), headers=AUTH, timeout=5).status_code
                 for _ in range(25)]
        assert burst.count(429) == 5                  # without a client limiter: rejected
        time.sleep(1.05)
        server.limiter.reset()
        limiter = ClientRateLimiter(RateLimit(client_limit, 1.0))
        sessions = [create_session("echo", headers=AUTH, limiter=limiter, retry=FAST)
                    for _ in range(3)]
        work = queue.SimpleQueue[int]()
        sent = 2 * client_limit + 1                   # the last one opens a third window
        for n in range(sent):
            work.put(n)

        def drain(session: VendorSession) -> None:
            while True:
                try:
                    work.get_nowait()
                except queue.Empty:
                    return
                session.ensure_ok(session.get(items_url(server)))

        threads = [threading.Thread(target=drain, args=(s,)) for s in sessions]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rate = (sent - 1) / (time.monotonic() - started)
        print(f"client {client_limit}/s, server 20/s: {sent} requests at {rate:.2f}/s = "
              f"{rate / 20:.0%} of the server's limit; limiter waited "
              f"{limiter.stats().waits} times, {limiter.stats().waited_seconds:.2f}s; "
              f"server rejected {server.limiter.rejected}")
        assert server.limiter.rejected == 0
        assert sum(s.stats.retries for s in sessions) == 0
        assert 0.85 * client_limit <= rate <= client_limit
        assert sessions[0].stats.snapshot()["rate_limit_waits"] == limiter.stats().waits > 0


def test_limiter_window_and_defer_with_a_fake_clock() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    limiter = ClientRateLimiter(RateLimit(2, 1.0), margin=0.0, clock=lambda: now[0],
                                sleep=sleep)
    assert [limiter.acquire() for _ in range(2)] == [0.0, 0.0]
    assert limiter.acquire() == 1.0 and slept == [1.0]
    limiter.defer(5.0)
    assert limiter.acquire() == 5.0
    assert limiter.stats().admitted == 4 and limiter.stats().waits == 2
    with pytest.raises(ValueError, match="at least 1 request"):
        ClientRateLimiter(RateLimit(0, 1.0))


def test_dlt_rest_client_paginates_through_the_session(server: SandboxServer) -> None:
    echo_vendor(server).put(*make_items(30, start=5))
    fault(server, kind="http_error", status=503, count=2)
    session = create_session("echo", headers=AUTH, retry=FAST, rng=random.Random(1))
    client = RESTClient(server.url("echo"), session=session, data_selector="items",
                        paginator=JSONResponseCursorPaginator(cursor_path="next_cursor",
                                                              cursor_param="after"))
    pages = list(client.paginate("/items", params={"limit": 10}))
    assert [len(page) for page in pages] == [10, 10, 10, 5]
    assert session.stats.retry_reasons == {"503": 2}
    with pytest.raises(requests.HTTPError) as caught:       # dlt's hook still sees an error
        list(client.paginate("/nothing", params={"token": "SECRET"}))
    assert isinstance(caught.value, VendorHTTPError)
    assert str(caught.value) == "echo: GET /echo/nothing answered HTTP 404 Not Found"


def test_vendor_request_error_message_forms() -> None:
    error = VendorRequestError("stripe", "GET", "/v1/customers", attempts=1, status=None,
                               failure="SSLError")
    assert str(error) == "stripe: GET /v1/customers failed (last: SSLError, no response)"
