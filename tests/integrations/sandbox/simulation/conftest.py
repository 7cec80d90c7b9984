"""Fixtures for the generator's tests: a recording writer and worlds cached per session.

The recording writer has the same methods as `store.WorldWriter` but keeps the canonical
records in memory, so the generator's output is tested independently of the vendor
renderers. Generated worlds are cached per session: each is simulated once, in seconds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from integrations.sandbox.simulation import SimulationSummary, generate

SEED = 7
END = date(2026, 10, 31)


class RecordingWriter:
    """Keeps every canonical record, usage row, truth row and meta value, day by day."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.usage: list[dict[str, Any]] = []
        self.truth: list[tuple[int, str, str, float]] = []
        self.meta: dict[str, Any] = {}
        self.order: list[tuple[str, dict[str, Any]]] = []
        self.committed_days = 0
        self.closed = False

    def put(self, kind: str, record: dict[str, Any]) -> None:
        self.records[kind].append(record)
        self.order.append((kind, record))

    def put_usage(self, rows: list[dict[str, Any]]) -> None:
        self.usage.extend(rows)

    def put_truth(self, rows: list[tuple[int, str, str, float]]) -> None:
        self.truth.extend(rows)

    def set_meta(self, key: str, value: Any) -> None:
        self.meta[key] = value

    def commit_day(self) -> None:
        self.committed_days += 1

    def close(self) -> None:
        self.closed = True

    def latest(self, kind: str) -> dict[Any, dict[str, Any]]:
        """The last emitted version of each record of `kind`, by key."""
        return {record["key"]: record for record in self.records[kind]}


@dataclass
class World:
    """A generated world: its directory, summary and everything the writer received."""

    path: Path
    summary: SimulationSummary
    writer: RecordingWriter


def record_world(path: Path, **options: Any) -> World:
    """Generate a world into `path` with a recording writer."""
    writers: list[RecordingWriter] = []

    def factory(world_path: Path) -> RecordingWriter:
        writers.append(RecordingWriter(world_path))
        return writers[-1]

    summary = generate(path, writer_factory=factory, **options)
    return World(path, summary, writers[0])


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The `small` preset over the default 24 months."""
    return record_world(tmp_path_factory.mktemp("small"), size="small", seed=SEED, end=END)


@pytest.fixture(scope="session")
def causal_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """1,200 accounts over 24 months: enough churn for stable rates, simulated in seconds."""
    return record_world(tmp_path_factory.mktemp("causal"), size="1200", seed=SEED, end=END)

