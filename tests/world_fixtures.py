"""Integration fixtures: small and tiny generated worlds per session, servers over copies.

Generating takes seconds, so the world is made once; tests that write (Slack messages, CRM
tasks) or advance it (`step`) get a private copy of the whole world directory (the SQLite
file and the simulation state), so no test sees another's changes.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrations.sandbox.server import SandboxServer

SMALL_MONTHS = 6
TINY_MONTHS = 1


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small company (seed 7), six months of history; treat as read-only."""
    from integrations.sandbox.simulation import generate

    world_dir = tmp_path_factory.mktemp("small-world") / "small-seed7"
    generate(world_dir, size="small", seed=7, months=SMALL_MONTHS)
    return world_dir / "world.sqlite"


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny company (seed 7), one month: for tests that need every source to page and
    nest, not volume (killed runs, flows); treat as read-only."""
    from integrations.sandbox.simulation import generate

    world_dir = tmp_path_factory.mktemp("tiny-world") / "tiny-seed7"
    generate(world_dir, size="tiny", seed=7, months=TINY_MONTHS)
    return world_dir / "world.sqlite"


@pytest.fixture
def world_copy(small_world: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the small world (step it with its parent directory)."""
    target = tmp_path / "world"
    shutil.copytree(small_world.parent, target)
    return target / small_world.name


@pytest.fixture
def sandbox(world_copy: Path) -> Iterator[SandboxServer]:
    """A running sandbox over a private copy of the small world, on a free loopback port."""
    with SandboxServer(world_copy) as server:
        yield server


@pytest.fixture(scope="session")
def tiny_sandbox(tiny_world: Path) -> Iterator[SandboxServer]:
    """A sandbox over the tiny world, shared by tests that only read from it."""
    with SandboxServer(tiny_world) as server:
        yield server
