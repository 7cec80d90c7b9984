"""Benchmark of ingestion: full and incremental load of a generated company, per source.

Generates a company (or reuses `--world`), serves it with the sandbox in this process, and
loads each source into a fresh DuckDB file in a child process of its own, one source at a
time; then advances the world one day (what `csp sandbox step 1` does) and loads each
source again, incrementally. Per source and run it reports records extracted per second,
requests per second as the sandbox counted them against the source's configured client
rate limit, and the peak resident memory of the ingesting process (`VmHWM`; `getrusage`
where /proc is missing). A table is printed
and the figures written as JSON. Examples:

    python bench/bench_ingest.py --size small
    python bench/bench_ingest.py                      # medium, 24 months
    python bench/bench_ingest.py --size large --months 12 --json /tmp/ingest-large.json
    CSP_HUBSPOT_RATE_LIMIT=20/10 python bench/bench_ingest.py --size small --source hubspot

Utilisation near 100 % means the API's rate limit is the bottleneck (the target there is at
least 90 %); a low figure with few requests means the run is bound by local work instead.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from csp.settings import SOURCES, VendorConfig, load_settings  # noqa: E402
from integrations.sandbox.server import SandboxServer  # noqa: E402
from integrations.sandbox.simulation import SIZES, generate, step  # noqa: E402

WORLD_FILE = "world.sqlite"


@dataclass(frozen=True)
class Measure:
    """One source, one run."""

    source: str
    run: str
    records: int
    loaded: int
    seconds: float
    requests: int
    rate_limit: float
    peak_rss_mib: float

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def utilisation(self) -> float:
        """Requests per second as a share of the configured client limit."""
        return self.requests_per_second / self.rate_limit if self.rate_limit else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "records_per_second": round(self.records_per_second, 1),
                "requests_per_second": round(self.requests_per_second, 2),
                "utilisation": round(self.utilisation, 3)}


def settings_env(base_url: str) -> dict[str, str]:
    """Every source enabled and pointed at the sandbox (sandbox credentials are the default);
    `CSP_<VENDOR>_RATE_LIMIT` from the environment still applies, to bench another limit."""
    return {**{name: value for name, value in os.environ.items()
               if name.startswith("CSP_") and name.endswith("_RATE_LIMIT")},
            "CSP_SOURCES": ",".join(SOURCES),
            **{f"CSP_{source.upper()}_BASE_URL": f"{base_url}/{source}" for source in SOURCES}}


def vendor_config(base_url: str, source: str) -> VendorConfig:
    return load_settings(settings_env(base_url)).vendors[source]


def child_main(source: str, base_url: str, duckdb_path: str) -> None:
    """Load one source (in this, the measured process) and print its figures as JSON."""
    from csp.warehouse import Warehouse
    from integrations.loader import WarehouseLoader
    from integrations.sources import build_source

    run = build_source(vendor_config(base_url, source))
    started = time.monotonic()
    report = WarehouseLoader(Warehouse("duckdb", Path(duckdb_path))).load(run.source)
    seconds = time.monotonic() - started
    print(json.dumps({"records": report.extracted, "loaded": report.loaded,
                      "seconds": seconds, "peak_rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB.

    Linux's `getrusage` maximum survives `exec`: a child forked from this benchmark (whose
    sandbox grows large while serving) would report the parent's size. `VmHWM` belongs to the
    process's own address space, so it is read instead where /proc exists.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def measure(server: SandboxServer, source: str, run: str, duckdb_path: Path) -> Measure:
    """Run one source's load in a child process; the sandbox counts its requests."""
    server.reset_counts()
    child = subprocess.run([sys.executable, __file__, "--child", source, server.base_url,
                            str(duckdb_path)], capture_output=True, text=True, check=False)
    if child.returncode != 0:
        raise SystemExit(f"{source} {run} load failed:\n{child.stderr[-3000:]}")
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    limit = vendor_config(server.base_url, source).rate_limit
    return Measure(source=source, run=run, records=figures["records"],
                   loaded=figures["loaded"], seconds=round(figures["seconds"], 2),
                   requests=sum(server.request_counts(source).values()),
                   rate_limit=limit.limit / limit.window,
                   peak_rss_mib=round(figures["peak_rss_mib"], 1))


def table(measures: list[Measure]) -> str:
    header = (f"{'source':<11}{'run':<12}{'records':>9}{'seconds':>9}{'records/s':>11}"
              f"{'requests':>9}{'req/s':>8}{'limit/s':>8}{'of limit':>9}{'peak MiB':>9}")
    lines = [header, "-" * len(header)]
    for m in measures:
        lines.append(row(m))
    return "\n".join(lines)


def row(m: Measure) -> str:
    return (f"{m.source:<11}{m.run:<12}{m.records:>9}{m.seconds:>9.1f}"
            f"{m.records_per_second:>11,.0f}{m.requests:>9}"
            f"{m.requests_per_second:>8.2f}{m.rate_limit:>8.2f}"
            f"{m.utilisation:>9.0%}{m.peak_rss_mib:>9.0f}")


def bench(world_dir: Path, work: Path, sources: list[str]) -> list[Measure]:
    measures: list[Measure] = []
    with SandboxServer(world_dir / WORLD_FILE) as server:
        for source in sources:
            measures.append(measure(server, source, "full", work / f"{source}.duckdb"))
            print(row(measures[-1]), flush=True)
        started = time.monotonic()
        step(world_dir, 1)
        print(f"world stepped one day in {time.monotonic() - started:.1f}s", flush=True)
        for source in sources:
            measures.append(measure(server, source, "incremental", work / f"{source}.duckdb"))
            print(row(measures[-1]), flush=True)
    return measures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium", choices=list(SIZES))
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--world", type=Path,
                        help="an existing world directory to copy instead of generating one")
    parser.add_argument("--source", action="append", choices=SOURCES, dest="sources")
    parser.add_argument("--json", type=Path, help="where to write the figures "
                                                   "(default bench/results/ingest-<size>.json)")
    parser.add_argument("--child", nargs=3, metavar=("SOURCE", "BASE_URL", "DUCKDB"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="csp-bench-ingest-") as scratch:
        work = Path(scratch)
        world_dir = work / "world"
        started = time.monotonic()
        if args.world:
            import shutil

            shutil.copytree(args.world, world_dir)
            print(f"world copied from {args.world}", flush=True)
        else:
            summary = generate(world_dir, size=args.size, seed=args.seed, months=args.months)
            print(f"{summary}\ngenerated in {time.monotonic() - started:.1f}s", flush=True)
        measures = bench(world_dir, work, args.sources or list(SOURCES))
    print(table(measures))
    out = args.json or Path(__file__).parent / "results" / f"ingest-{args.size}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"size": args.size, "months": args.months, "seed": args.seed,
                               "world": str(args.world) if args.world else None,
                               "measures": [m.as_dict() for m in measures]}, indent=2) + "\n")
    print(f"figures written to {out}")


if __name__ == "__main__":
    main()
