"""Benchmark of validation: wall time and peak memory of running the suites on a warehouse.

Validation must scale with the warehouse, not with Python's memory: every expectation runs as
SQL in the database and only aggregates and a capped sample of failing rows come back. This
prints the rows of the largest marts next to the time and the peak resident memory, so a
peak that grows with the rows would show. It reads a copy of the given DuckDB file (the
read-only validation needs no copy, but the verdict is written) or a PostgreSQL database.

    python bench/bench_validate.py --duckdb warehouse/csp.duckdb
    python bench/bench_validate.py --postgres postgresql://user:pw@127.0.0.1:5432/db
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from csp.settings import Secret  # noqa: E402
from csp.warehouse import Warehouse  # noqa: E402
from expectations import catalog, parameters, record, runner  # noqa: E402

SOURCES = ("hubspot", "stripe", "zendesk", "product")


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--duckdb", type=Path, help="a DuckDB warehouse with built marts")
    target.add_argument("--postgres", help="a PostgreSQL DSN of a warehouse with built marts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as folder:
        if args.duckdb:
            copy = Path(folder) / "warehouse.duckdb"
            shutil.copyfile(args.duckdb, copy)
            warehouse = Warehouse("duckdb", copy)
        else:
            warehouse = Warehouse("postgres", Path("unused.duckdb"), Secret(args.postgres))
        db = record.open_db(warehouse)
        try:
            state = record.inputs_state(db)
        finally:
            db.conn.close()
        print(f"{'mart':<28}{'rows':>12}")
        for name, rows in sorted(state.mart_rows.items(), key=lambda item: -item[1])[:5]:
            print(f"{name:<28}{rows:>12,}")
        values = parameters.resolve(SOURCES)
        baseline = peak_rss_mib()
        print(f"\npeak memory before validating: {baseline:.0f} MiB (GX and drivers imported)")
        print(f"{'suite':<20}{'expectations':>13}{'failed':>8}{'seconds':>9}{'peak MiB':>10}")
        started = time.perf_counter()
        failures = []
        for suite in catalog.domains(SOURCES, values):
            begun = time.perf_counter()
            (verdict,) = runner.validate(warehouse, [suite], values, Path(folder) / "gx").verdicts
            print(f"{suite.name:<20}{verdict.evaluated:>13}{len(verdict.failures):>8}"
                  f"{time.perf_counter() - begun:>9.1f}{peak_rss_mib():>10.0f}")
            failures += verdict.failures
        print(f"{'total':<41}{time.perf_counter() - started:>9.1f}{peak_rss_mib():>10.0f}")
        for failure in failures:
            print(f"failed: {failure.suite} {failure.asset} {failure.expectation} "
                  f"[{failure.column}] observed {failure.observed}")


if __name__ == "__main__":
    main()
