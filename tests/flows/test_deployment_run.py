"""A deployment from prefect.yaml, applied to a real local Prefect server, runs through a
process worker — the way README's "Scheduling" tells a data engineer to run it.

The server, `prefect deploy`, `prefect deployment run` and the worker are the real CLI in
subprocesses with their own PREFECT_HOME; the flow (advance the sandbox one day) changes a
private copy of the world, so the test can see that the run really did its work.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
DEPLOYMENT = "advance-sandbox/advance-sandbox"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A `prefect server start` on a free loopback port; yields the environment to reach it."""
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "CSP_HOME": str(ROOT)}
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port",
                               str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{env['PREFECT_API_URL']}/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            time.sleep(1)
        else:
            pytest.fail("the Prefect server did not answer within 240 s")
        yield env
    finally:
        server.terminate()
        server.wait(60)
        log.close()


def prefect(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PREFECT, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def world_clock(world: Path) -> str:
    with sqlite3.connect(world) as conn:
        return str(conn.execute("select value from meta where key = 'clock'").fetchone()[0])


def test_a_deployment_runs_through_a_process_worker(prefect_server: dict[str, str],
                                                    world_copy: Path) -> None:
    env = prefect_server
    before = world_clock(world_copy)
    prefect(env, "work-pool", "create", "csp-process", "--type", "process")
    prefect(env, "--no-prompt", "deploy", "--name", "advance-sandbox")
    api = env["PREFECT_API_URL"]
    deployment = requests.get(f"{api}/deployments/name/{DEPLOYMENT}", timeout=10).json()
    assert [s["schedule"]["cron"] for s in deployment["schedules"]] == ["0 5 * * *"]

    prefect(env, "deployment", "run", DEPLOYMENT, "--param", f"world_dir={world_copy.parent}")
    prefect(env, "worker", "start", "--pool", "csp-process", "--run-once")

    runs = requests.post(f"{api}/flow_runs/filter", timeout=10,
                         json={"deployments": {"id": {"any_": [deployment["id"]]}}}).json()
    # The run we asked for completed; the server's scheduler has queued the cron's next ones.
    states = Counter(run["state"]["type"] for run in runs)
    assert states["COMPLETED"] == 1 and set(states) <= {"COMPLETED", "SCHEDULED"}, states
    assert world_clock(world_copy) > before
