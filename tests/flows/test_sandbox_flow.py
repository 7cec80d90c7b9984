"""The advance-sandbox flow runs for real under Prefect and moves the world's clock."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flows.sandbox import advance_sandbox
from integrations.sandbox.simulation import generate
from integrations.sandbox.store import WorldReader


def test_advance_sandbox_steps_the_configured_world(prefect: None, tmp_path: Path) -> None:
    world_dir = tmp_path / "world"
    generate(world_dir, size="small", seed=3, months=1, end=date(2026, 10, 31))
    summary = advance_sandbox(days=2, world_dir=str(world_dir))
    assert "2026-11-02" in summary
    assert WorldReader(world_dir / "world.sqlite").meta("clock") == "2026-11-02"
