"""A `csp apply` killed mid-delivery (SIGKILL, no clean-up) and run again delivers each
remaining action once: rows left `sending` are looked up at the vendor before any resend."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from csp.activation.db import Db
from csp.activation.outbox import counts
from csp.activation.service import run_apply, run_plan
from csp.settings import Settings
from csp.warehouse import Warehouse
from integrations.sandbox.server import SandboxServer
from tests.activation.conftest import (
    control,
    messages_per_key,
    pushed_counts,
    sandbox_env,
    tasks_per_key,
)
from tests.activation.test_delivery import EXPECTED

REPO = Path(__file__).resolve().parents[2]
KILL_AFTER_MESSAGES = 4


def test_killed_apply_resumes_without_duplicates(scenario_warehouse: Warehouse,
                                                 settings: Settings,
                                                 activation_sandbox: SandboxServer) -> None:
    run_plan(scenario_warehouse)
    # Each post takes half a second server-side, so the kill lands mid-delivery — often while
    # a post is in flight, which the sandbox then completes: the ambiguous case.
    control(activation_sandbox, "POST", "/faults", {"vendor": "slack", "kind": "slow",
                                                    "route": "chat.postMessage",
                                                    "seconds": 0.5})
    env = {**os.environ, **sandbox_env(activation_sandbox, scenario_warehouse)}
    child = subprocess.Popen([sys.executable, "-m", "csp", "apply", "--override",
                              "killed-run test"], cwd=REPO, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while pushed_counts(activation_sandbox)["slack.message"] < KILL_AFTER_MESSAGES:
            assert child.poll() is None, "apply finished before it could be killed"
            assert time.monotonic() < deadline, "apply made no progress"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    control(activation_sandbox, "DELETE", "/faults")
    time.sleep(0.6)                      # let a post the kill left in flight land
    delivered_before = pushed_counts(activation_sandbox)["slack.message"]
    assert KILL_AFTER_MESSAGES <= delivered_before < EXPECTED["slack.message"]

    report = run_apply(scenario_warehouse, settings)
    assert report.failed == {}
    assert report.sent["slack"] + report.found_already_delivered >= \
        EXPECTED["slack.message"] - delivered_before
    assert pushed_counts(activation_sandbox) == EXPECTED
    assert set(messages_per_key(activation_sandbox).values()) == {1}
    assert set(tasks_per_key(activation_sandbox).values()) == {1}
    conn = scenario_warehouse.connect()
    try:
        assert counts(Db(conn, "duckdb")) == {"sent": 26, "suppressed": 4}
    finally:
        conn.close()
