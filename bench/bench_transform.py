"""Benchmark: `dbt build` of the whole project on an ingested raw layer, full then incremental.

Usage:
    python bench/bench_transform.py --raw warehouse/csp.duckdb            # DuckDB (a copy)
    python bench/bench_transform.py --postgres-dsn postgresql://…/raw_db  # builds in that db

The DuckDB file is copied first, so the benchmark never changes it. Prints wall and CPU time
of a full build (`--full-refresh`) and of an incremental build right after it (no new data:
the floor of a daily run), the ratio between them, the slowest models, and the machine and
versions; `--json` writes the same figures to a file. Timings on shared machines are noisy:
compare ratios, or runs on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from csp.dbt_runner import DbtRun, dbt_args, run_dbt
from csp.settings import Secret
from csp.warehouse import Warehouse

SLOWEST = 8


def timed_build(warehouse: Warehouse, folder: Path, full_refresh: bool) -> dict[str, Any]:
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    run = run_dbt(warehouse, dbt_args("build", target_path=folder / "target",
                                      log_path=folder / "logs", full_refresh=full_refresh))
    wall = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if not run.success:
        problems = run.error or "; ".join(n.problem() for n in run.failed_nodes)
        raise SystemExit(f"dbt build failed: {problems}")
    return {"wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
            "nodes": len(run.nodes), "slowest_models": slowest(run)}


def slowest(run: DbtRun) -> list[tuple[str, float]]:
    models = [n for n in run.nodes if n.resource_type == "model"]
    return [(n.name, round(n.execution_time, 1))
            for n in sorted(models, key=lambda n: -n.execution_time)[:SLOWEST]]


def machine() -> dict[str, Any]:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {"cores": os.cpu_count(), "memory_gib": round(pages / 2**30, 1),
            "python": platform.python_version(),
            "versions": {name: version(name) for name in
                         ("dbt-core", "dbt-duckdb", "dbt-postgres", "duckdb")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--raw", type=Path, help="a DuckDB file holding the raw layer")
    where.add_argument("--postgres-dsn", help="a PostgreSQL database holding the raw layer")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="csp-bench-transform-") as scratch:
        folder = Path(scratch)
        if args.raw:
            copy = folder / "warehouse.duckdb"
            shutil.copyfile(args.raw, copy)
            warehouse = Warehouse("duckdb", copy)
        else:
            warehouse = Warehouse("postgres", folder / "unused.duckdb", Secret(args.postgres_dsn))
        full = timed_build(warehouse, folder / "full", full_refresh=True)
        incremental = timed_build(warehouse, folder / "incremental", full_refresh=False)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    result = {"engine": warehouse.engine, "full": full, "incremental": incremental,
              "incremental_over_full": round(incremental["wall_seconds"] /
                                             full["wall_seconds"], 3),
              "peak_memory_mib": round(peak_mib), "machine": machine()}
    print(f"dbt build on {warehouse.engine} ({result['machine']['cores']} cores, "
          f"{result['machine']['memory_gib']} GiB)")
    for name in ("full", "incremental"):
        figures = result[name]
        print(f"  {name:<12} {figures['wall_seconds']:>7.1f} s wall {figures['cpu_seconds']:>7.1f}"
              f" s CPU  {figures['nodes']} nodes")
    print(f"  incremental / full: {result['incremental_over_full']:.2f}; "
          f"peak memory {result['peak_memory_mib']} MiB")
    print("  slowest models (full): " + ", ".join(f"{n} {s}s" for n, s in full["slowest_models"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
