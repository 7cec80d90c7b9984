"""Benchmark of the sandbox generator: wall time, records per second and peak memory.

Generates a world of the given size into a temporary directory with the real `WorldWriter`
(so every vendor renderer runs), then prints one small table. `--generator-only` discards
the records instead, to separate the simulation's cost from the writer's. Examples:

    python bench/bench_generate.py --size small
    python bench/bench_generate.py --size medium --months 24
    python bench/bench_generate.py --size large --generator-only
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integrations.sandbox.simulation import SIZES, SimulationSummary, generate  # noqa: E402


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


class DiscardingWriter:
    """A writer that drops everything: times the generator alone (no renderers, no SQLite)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def put(self, kind: str, record: dict[str, Any]) -> None:
        """Drop a canonical record."""

    def put_usage(self, rows: list[dict[str, Any]]) -> None:
        """Drop a day's usage rows."""

    def put_truth(self, rows: list[tuple[int, str, str, float]]) -> None:
        """Drop a day's truth rows."""

    def set_meta(self, key: str, value: Any) -> None:
        """Drop a meta value."""

    def commit_day(self) -> None:
        """Nothing to commit."""

    def close(self) -> None:
        """Nothing to close."""


def run(size: str, seed: int, months: int, generator_only: bool,
        ) -> tuple[SimulationSummary, float, float, int]:
    """Generate one world; returns its summary, wall and CPU seconds and the world's bytes on
    disk. CPU time is the figure to compare on a shared machine, where wall time varies."""
    with tempfile.TemporaryDirectory(prefix="csp-bench-") as directory:
        started, cpu_started = time.perf_counter(), time.process_time()
        summary = generate(Path(directory) / "world", size=size, seed=seed, months=months,
                           writer_factory=DiscardingWriter if generator_only else None)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        world_bytes = sum(p.stat().st_size for p in (Path(directory) / "world").iterdir())
    return summary, wall, cpu, world_bytes


def table(summary: SimulationSummary, wall: float, cpu: float, world_bytes: int) -> str:
    """The benchmark's result as a two-column table."""
    records = summary.total_records
    rows = [
        ("size", f"{summary.size} ({summary.accounts_ever} accounts ever)"),
        ("simulated", f"{summary.start} .. {summary.clock} ({summary.days} days)"),
        ("wall time", f"{wall:,.1f} s"),
        ("CPU time", f"{cpu:,.1f} s"),
        ("canonical records", f"{records:,}"),
        ("usage rows", f"{summary.usage_rows:,}"),
        ("records / s", f"{records / wall:,.0f}"),
        ("records + usage rows / s", f"{(records + summary.usage_rows) / wall:,.0f}"),
        ("peak RSS", f"{peak_rss_mib():,.0f} MiB"),
        ("world directory on disk", f"{world_bytes / 2**20:,.0f} MiB"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{'metric'.ljust(width)}  value", f"{'-' * width}  {'-' * 30}"]
    lines += [f"{name.ljust(width)}  {value}" for name, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small",
                        help=f"{', '.join(SIZES)} or an account count (default: small)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--generator-only", action="store_true",
                        help="discard the records instead of writing the world (isolates the "
                             "simulation's own cost from the vendor renderers and SQLite)")
    args = parser.parse_args(argv)
    print(table(*run(args.size, args.seed, args.months, args.generator_only)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
