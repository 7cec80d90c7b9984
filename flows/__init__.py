"""Prefect flows: orchestration only, thin; the work lives in `integrations/` and `csp/`.

Importing this package sets Prefect defaults this product relies on, unless the environment
already sets them: no telemetry, and a startup timeout long enough for the first start of the
ephemeral API server on a small machine (it migrates its database, which can exceed 20 s).
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
