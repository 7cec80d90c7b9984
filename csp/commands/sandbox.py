"""`csp sandbox …`: generate, serve, advance, export and load the simulated company."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

from csp.cli import UserError, settings_or_exit
from integrations.rate_window import RateLimit

WORLD_FILE = "world.sqlite"


def add_sandbox(sub: Any) -> None:
    parser = sub.add_parser(
        "sandbox", help="the local emulator of HubSpot, Salesforce, Stripe, Zendesk, Slack "
                        "and the usage feed",
        description="A simulated SaaS company served through each vendor's real API on "
                    "loopback. Example: csp sandbox serve --size small --seed 7 --port 8900",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION")

    generate = actions.add_parser(
        "generate", help="simulate a company day by day into a world file",
        description="Example: csp sandbox generate --size medium --seed 3 --months 12")
    _world_options(generate)
    generate.add_argument("--months", type=int, default=24, help="history length (default 24)")
    generate.add_argument("--end", type=date.fromisoformat, default=date(2026, 10, 31),
                          help="last simulated day, YYYY-MM-DD (default 2026-10-31)")
    generate.add_argument("--force", action="store_true", help="replace an existing world")
    generate.set_defaults(run=run_generate)

    serve = actions.add_parser(
        "serve", help="serve the world over HTTP (generates it first if missing)",
        description="Each vendor is mounted under its name: http://HOST:PORT/stripe/v1/... "
                    "Example: csp sandbox serve --size small --seed 7 --port 8900 "
                    "--rate-limit hubspot=10/1")
    _world_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default loopback)")
    serve.add_argument("--port", type=int, help="port (default CSP_SANDBOX_PORT or 8900)")
    serve.add_argument("--rate-limit", action="append", default=[], metavar="VENDOR=N/SECONDS",
                       help="override a vendor's rate limit, e.g. stripe=25/1 (repeatable)")
    serve.set_defaults(run=run_serve)

    step = actions.add_parser(
        "step", help="advance the simulation by N days",
        description="Safe while the server runs. Example: csp sandbox step 1")
    step.add_argument("days", type=int, help="days to simulate")
    _world_options(step)
    step.set_defaults(run=run_step)

    export = actions.add_parser(
        "export", help="write the world as a fixture directory of vendor-shaped JSON",
        description="Example: csp sandbox export ./fixtures/small-seed7")
    export.add_argument("target", type=Path)
    _world_options(export)
    export.set_defaults(run=run_export)

    load = actions.add_parser(
        "load-fixtures", help="build a world from a fixture directory (e.g. a real export)",
        description="Files are <vendor>/<kind>.json lists of API objects. "
                    "Example: csp sandbox load-fixtures ./my-export --dir .csp/sandbox/replay")
    load.add_argument("source", type=Path)
    _world_options(load)
    load.set_defaults(run=run_load_fixtures)

    fault = actions.add_parser(
        "fault", help="inject a fault into a running sandbox",
        description="Kinds: rate_limit, http_error, slow, drop, malformed, drift_add, "
                    "drift_rename, drift_type. Example: csp sandbox fault stripe rate_limit "
                    "--count 20   |   csp sandbox fault --clear")
    fault.add_argument("vendor", nargs="?")
    fault.add_argument("kind", nargs="?")
    fault.add_argument("--route", default="*", help="endpoint name pattern (default all)")
    fault.add_argument("--count", type=int, help="fire this many times (default: until cleared)")
    fault.add_argument("--probability", type=float)
    fault.add_argument("--status", type=int, default=503)
    fault.add_argument("--seconds", type=float, default=1.0)
    fault.add_argument("--field", default="")
    fault.add_argument("--to", default="")
    fault.add_argument("--clear", action="store_true", help="remove every fault")
    fault.add_argument("--port", type=int)
    fault.set_defaults(run=run_fault)


def _world_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", choices=("small", "medium", "large"),
                        help="company size preset (default CSP_SANDBOX_SIZE or small)")
    parser.add_argument("--seed", type=int, help="random seed (default CSP_SANDBOX_SEED or 7)")
    parser.add_argument("--dir", type=Path, help="world directory (default: "
                        "CSP_SANDBOX_DIR/<size>-seed<seed>)")


def world_dir(args: argparse.Namespace) -> Path:
    settings = settings_or_exit()
    if getattr(args, "dir", None):
        return Path(args.dir)
    size = args.size or settings.sandbox_size
    seed = settings.sandbox_seed if args.seed is None else args.seed
    return settings.sandbox_dir / f"{size}-seed{seed}"


def run_generate(args: argparse.Namespace) -> int:
    from integrations.sandbox.simulation import generate

    settings = settings_or_exit()
    target = world_dir(args)
    if target.exists() and args.force:
        shutil.rmtree(target)
    if (target / WORLD_FILE).exists():
        raise UserError(f"a world already exists at {target}; pass --force to replace it")
    summary = generate(target, size=args.size or settings.sandbox_size,
                       seed=settings.sandbox_seed if args.seed is None else args.seed,
                       months=args.months, end=args.end)
    print(f"generated {target / WORLD_FILE}")
    print(summary)
    return 0


def ensure_world(args: argparse.Namespace) -> Path:
    """The world file for these options, generated with the defaults if it does not exist."""
    from integrations.sandbox.simulation import generate

    settings = settings_or_exit()
    target = world_dir(args)
    if not (target / WORLD_FILE).exists():
        print(f"no world at {target}: generating it (once)…", flush=True)
        summary = generate(target, size=args.size or settings.sandbox_size,
                           seed=settings.sandbox_seed if args.seed is None else args.seed)
        print(summary, flush=True)
    return target / WORLD_FILE


def parse_rate_limits(specs: list[str]) -> dict[str, RateLimit]:
    limits = {}
    for spec in specs:
        found = re.fullmatch(r"(\w+)=(\d+)/(\d+(?:\.\d+)?)", spec)
        if not found or int(found[2]) < 1 or float(found[3]) <= 0:
            raise UserError(f"--rate-limit {spec!r}: expected VENDOR=REQUESTS/SECONDS, "
                            f"e.g. hubspot=100/10")
        limits[found[1]] = RateLimit(int(found[2]), float(found[3]))
    return limits


def run_serve(args: argparse.Namespace) -> int:
    from integrations.sandbox.credentials import sandbox_secrets
    from integrations.sandbox.server import SandboxServer
    from integrations.sandbox.vendors import VENDOR_CLASSES

    settings = settings_or_exit()
    limits = parse_rate_limits(args.rate_limit)
    unknown = set(limits) - set(VENDOR_CLASSES)
    if unknown:
        raise UserError(f"--rate-limit names unknown vendor(s): {', '.join(sorted(unknown))}")
    world = ensure_world(args)
    port = settings.sandbox_port if args.port is None else args.port
    try:
        server = SandboxServer(world, host=args.host, port=port, secrets=sandbox_secrets(),
                               rate_limits=limits)
    except OSError as exc:
        raise UserError(f"cannot listen on {args.host}:{port}: {exc.strerror}") from None
    print(f"sandbox serving {world} at {server.base_url}", flush=True)
    for name in sorted(server.vendors):
        print(f"  {name:<11} {server.url(name)}", flush=True)
    print(f"  control     {server.base_url}/_sandbox/health  (Ctrl-C stops)", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("sandbox stopped", flush=True)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the server like Ctrl-C does (clean shutdown, exit 0)."""
    raise KeyboardInterrupt


def run_step(args: argparse.Namespace) -> int:
    if args.days < 1:
        raise UserError("days must be at least 1")
    target = world_dir(args)
    if not (target / WORLD_FILE).exists():
        raise UserError(f"no world at {target}; run `csp sandbox generate` first")
    from integrations.sandbox.simulation import step

    print(step(target, args.days))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from integrations.sandbox.fixtures import export_world

    source = world_dir(args) / WORLD_FILE
    if not source.exists():
        raise UserError(f"no world at {source.parent}; run `csp sandbox generate` first")
    written = export_world(source, args.target)
    print(f"exported {sum(written.values())} records in {len(written)} files to {args.target}")
    return 0


def run_load_fixtures(args: argparse.Namespace) -> int:
    from integrations.sandbox.fixtures import FixtureError, load_fixture_dir

    target = world_dir(args) / WORLD_FILE
    try:
        loaded = load_fixture_dir(args.source, target)
    except FixtureError as exc:
        raise UserError(str(exc)) from None
    for name, count in loaded.items():
        print(f"  {name:<40} {count:>8}")
    print(f"loaded {sum(loaded.values())} records into {target}")
    return 0


def run_fault(args: argparse.Namespace) -> int:
    settings = settings_or_exit()
    port = settings.sandbox_port if args.port is None else args.port
    url = f"http://127.0.0.1:{port}/_sandbox/faults"
    if args.clear:
        print(_control(url, "DELETE", None))
        return 0
    if not (args.vendor and args.kind):
        raise UserError("name a vendor and a fault kind, or pass --clear")
    spec = {"vendor": args.vendor, "kind": args.kind, "route": args.route, "count": args.count,
            "probability": args.probability, "status": args.status, "seconds": args.seconds,
            "field": args.field, "to": args.to}
    print(_control(url, "POST", spec))
    return 0


def _control(url: str, method: str, payload: dict[str, Any] | None) -> str:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()
    except urllib.error.HTTPError as exc:
        raise UserError(f"sandbox refused: {exc.read().decode()}") from None
    except OSError as exc:
        raise UserError(f"no sandbox answering at {url} ({exc})") from None
