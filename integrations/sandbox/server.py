"""The sandbox HTTP server: every vendor on one loopback port, under its own path prefix.

`http://HOST:PORT/<vendor>/...` is that vendor's API root, so a connector is pointed at the
sandbox by its base URL alone (`https://api.hubapi.com` -> `http://127.0.0.1:8900/hubspot`).
The core does what is common to all vendors — routing, auth, rate limits, fault injection,
request counting — and asks the vendor module (`routing.Vendor`) for everything that differs.

`/_sandbox/...` is the operator's control API (not a vendor's): health, faults, request
counts, and what connectors pushed (Slack messages, CRM writes).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from integrations.rate_window import SlidingWindowLimiter
from integrations.sandbox.credentials import DEFAULT_SECRETS
from integrations.sandbox.faults import AFTER_HANDLER, Fault, FaultBoard, FaultError, apply_drift
from integrations.sandbox.routing import BadRequest, RateLimit, Request, Response, Route, Vendor
from integrations.sandbox.store import WorldReader
from integrations.sandbox.vendors import VENDOR_CLASSES

log = logging.getLogger(__name__)

CONTROL_PREFIX = "_sandbox"
DROPPED_STATUS = 0
"""The status counted for a request whose connection the drop fault closed unanswered."""


class _Dropped(Exception):
    """Raised to close a connection without answering (the drop fault)."""


class SandboxServer:
    """A running sandbox over one world file; use as a context manager or start()/stop()."""

    def __init__(self, world_path: Path, *, host: str = "127.0.0.1", port: int = 0,
                 secrets: Mapping[str, str] = DEFAULT_SECRETS,
                 rate_limits: Mapping[str, RateLimit] | None = None, fault_seed: int = 0,
                 ) -> None:
        self.world = WorldReader(world_path)
        self.vendors: dict[str, Vendor] = {name: cls(secrets) for name, cls in
                                           VENDOR_CLASSES.items()}
        self.rate_limits: dict[str, RateLimit] = {
            name: (rate_limits or {}).get(name, vendor.default_rate_limit)
            for name, vendor in self.vendors.items()
        }
        self._routes = {name: vendor.routes() for name, vendor in self.vendors.items()}
        self.faults = FaultBoard(seed=fault_seed)
        self.limiter = SlidingWindowLimiter()
        self._counts: Counter[tuple[str, str, int]] = Counter()
        self._counts_lock = threading.Lock()
        self._httpd = _HTTPServer((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, vendor: str) -> str:
        return f"{self.base_url}/{vendor}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self.serve_forever, name="csp-sandbox",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._serving = True
        # A short poll interval: shutdown() waits up to one interval, and tests stop often.
        self._httpd.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        """Stop serving and close the socket; safe whether or not the server was started."""
        if getattr(self, "_serving", False):
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- counting -----------------------------------------------------------------------------

    def _count(self, vendor: str, route: str, status: int) -> None:
        with self._counts_lock:
            self._counts[(vendor, route, status)] += 1

    def request_counts(self, vendor: str | None = None) -> dict[str, int]:
        """Requests received per "vendor route" (all statuses), e.g. {"stripe events.list": 3}."""
        totals: Counter[str] = Counter()
        with self._counts_lock:
            for (name, route, _status), n in self._counts.items():
                if vendor is None or name == vendor:
                    totals[f"{name} {route}"] += n
        return dict(totals)

    def status_counts(self, vendor: str | None = None) -> dict[int, int]:
        totals: Counter[int] = Counter()
        with self._counts_lock:
            for (name, _route, status), n in self._counts.items():
                if vendor is None or name == vendor:
                    totals[status] += n
        return dict(totals)

    def reset_counts(self) -> None:
        with self._counts_lock:
            self._counts.clear()

    # -- dispatch -----------------------------------------------------------------------------

    def dispatch(self, method: str, raw_path: str, headers: Any, body: bytes) -> Response:
        """Answer one request (raises _Dropped to close the connection unanswered)."""
        parts = urlsplit(raw_path)
        vendor_name, _, rest = parts.path.lstrip("/").partition("/")
        query = parse_qs(parts.query, keep_blank_values=True)
        if vendor_name == CONTROL_PREFIX:
            return self._control(method, "/" + rest, query, body)
        vendor = self.vendors.get(vendor_name)
        if vendor is None:
            return Response(404, {"error": f"no vendor at /{vendor_name}",
                                  "vendors": sorted(self.vendors)})
        request = Request(method=method, path="/" + rest, query=query, headers=headers,
                          body=body, world=self.world, base_url=self.url(vendor_name))
        route = self._match(vendor_name, request)
        route_name = route.name if route else "unmatched"
        try:
            response = self._answer(vendor, route, request)
        except _Dropped:
            self._count(vendor_name, route_name, DROPPED_STATUS)
            raise
        self._count(vendor_name, route_name, response.status)
        return response

    def _match(self, vendor_name: str, request: Request) -> Route | None:
        for route in self._routes[vendor_name]:
            params = route.match(request.method, request.path)
            if params is not None:
                request.params = params
                return route
        return None

    def _answer(self, vendor: Vendor, route: Route | None, request: Request) -> Response:
        route_name = route.name if route else "unmatched"
        for fault in self.faults.firing(vendor.name, route_name, ("slow",)):
            time.sleep(fault.seconds)
        for fault in self.faults.firing(vendor.name, route_name, ("rate_limit", "http_error"),
                                        first_only=True):
            if fault.kind == "rate_limit":
                return vendor.rate_limited(fault.seconds, self.rate_limits[vendor.name])
            return vendor.error(fault.status, "injected server error", "server_error")
        denied = vendor.authenticate(request)
        if denied is not None:
            return denied
        limit = vendor.rate_limit_for(request, self.rate_limits[vendor.name])
        admission = self.limiter.admit(f"{vendor.name}:{vendor.rate_limit_key(request)}", limit)
        if not admission.allowed:
            return vendor.rate_limited(admission.retry_after, limit)
        if route is None:
            return vendor.error(404, f"no route for {request.method} {request.path}",
                                "not_found")
        response = self._handle(vendor, route, request)
        response.headers.update(vendor.rate_limit_headers(limit, admission.remaining))
        return self._after(vendor, route, response)

    def _handle(self, vendor: Vendor, route: Route, request: Request) -> Response:
        try:
            return route.handler(request)
        except BadRequest as exc:
            return vendor.error(400, exc.message, exc.code)
        except Exception:
            log.exception("sandbox %s route %s failed", vendor.name, route.name)
            return vendor.error(500, "sandbox internal error", "internal_error")

    def _after(self, vendor: Vendor, route: Route, response: Response) -> Response:
        for fault in self.faults.firing(vendor.name, route.name, AFTER_HANDLER):
            if fault.kind == "drop":
                raise _Dropped
            if fault.kind == "malformed":
                encoded = response.encoded()
                response.body = encoded[: max(len(encoded) // 2, 1)]
            elif isinstance(response.body, dict | list):
                apply_drift(vendor.records(response.body), fault)
        return response

    # -- control API --------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: dict[str, list[str]], body: bytes,
                 ) -> Response:
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return Response(400, {"error": "body is not JSON"})
        if (method, path) == ("GET", "/health"):
            return Response(200, {"ok": True, "vendors": sorted(self.vendors),
                                  "clock": self.world.meta("clock")})
        if path == "/faults":
            return self._control_faults(method, payload)
        if (method, path) == ("GET", "/requests"):
            return Response(200, {"requests": self.request_counts(),
                                  "statuses": self.status_counts(),
                                  "rate_limited": self.limiter.rejected})
        if (method, path) == ("DELETE", "/requests"):
            self.reset_counts()
            return Response(200, {"ok": True})
        if (method, path) == ("GET", "/pushed"):
            vendor = query.get("vendor", [None])[0]
            kind = query.get("kind", [None])[0]
            return Response(200, {"pushed": self.world.pushed(vendor, kind)})
        if (method, path) == ("POST", "/same-timestamp"):
            return self._control_same_timestamp(payload)
        return Response(404, {"error": f"no control route {method} {path}"})

    def _control_faults(self, method: str, payload: dict[str, Any]) -> Response:
        if method == "GET":
            return Response(200, {"faults": self.faults.active()})
        if method == "DELETE":
            self.faults.clear()
            return Response(200, {"ok": True})
        if method == "POST":
            try:
                fault = self.faults.add(Fault(**payload))
            except (TypeError, FaultError) as exc:
                return Response(400, {"error": str(exc)})
            return Response(201, {"fault": fault.as_dict()})
        return Response(405, {"error": "use GET, POST or DELETE"})

    def _control_same_timestamp(self, payload: dict[str, Any]) -> Response:
        vendor = self.vendors.get(str(payload.get("vendor")))
        if vendor is None:
            return Response(400, {"error": "'vendor' must name a sandbox vendor"})
        request = Request("POST", "/", {}, Message(), b"", self.world, self.url(vendor.name))
        try:
            changed = vendor.share_one_timestamp(request, str(payload.get("kind")),
                                                 int(payload.get("count", 0)))
        except (BadRequest, ValueError) as exc:
            return Response(400, {"error": str(exc)})
        return Response(200, {"changed": changed})


class _HTTPServer(ThreadingHTTPServer):
    """One thread per connection; a client hanging up is normal, not an error to print."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError | TimeoutError):
            return
        log.exception("sandbox connection from %s failed", client_address[0])


def _handler_for(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "csp-sandbox"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                response = server.dispatch(self.command, self.path, self.headers, body)
            except _Dropped:
                self.close_connection = True
                return
            payload = response.encoded()
            self.send_response(response.status)
            headers = {"Content-Type": response.content_type, **response.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # Not the request line: a Slack webhook's path *is* its secret.
            log.debug("%s -> %s", self.command, code)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("sandbox http: %s", format)  # args may hold the request line; see above

    return Handler
