"""Flow: advance the sandbox company, so a demo or staging environment lives day by day.

Scheduled daily in `prefect.yaml`; the pipeline's own flows then see new sign-ups, usage,
tickets and churn exactly as they would from production.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from csp.settings import load_settings


@task(name="simulate-days")
def simulate_days(world_dir: Path, days: int) -> str:
    """The summary of the simulated days, as the CLI prints it."""
    from integrations.sandbox.simulation import step

    return str(step(world_dir, days))


@flow(name="advance-sandbox")
def advance_sandbox(days: int = 1, world_dir: str | None = None) -> str:
    """Simulate `days` more days of the sandbox company (default: the configured world)."""
    settings = load_settings(dotenv=Path(".env"))
    target = Path(world_dir) if world_dir else (
        settings.sandbox_dir / f"{settings.sandbox_size}-seed{settings.sandbox_seed}")
    return simulate_days(target, days)
