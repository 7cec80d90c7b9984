"""The simulated company: a deterministic, causal, day-by-day generator of canonical records.

`generate(world_dir, size=..., seed=..., months=..., end=...)` creates `world_dir/world.sqlite`
through `store.WorldWriter` (whose vendor renderers turn each canonical record of `domain`
into HubSpot, Salesforce, Stripe, Zendesk, Slack and product objects) and simulates the
history one day at a time; `step(world_dir, days)` continues it. Both return a
`SimulationSummary`. See `engine` for the day loop and `dynamics` for the causal model.
"""

from integrations.sandbox.simulation.engine import generate, load_state, step
from integrations.sandbox.simulation.presets import SIZES, resolve_size
from integrations.sandbox.simulation.summary import SimulationSummary

__all__ = ["SIZES", "SimulationSummary", "generate", "load_state", "resolve_size", "step"]
