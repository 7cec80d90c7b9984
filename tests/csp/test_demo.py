"""`csp demo` end to end, as `make demo` runs it: real generator, server and HTTP reads."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.csp.test_cli import run_csp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow  # the 24-month small company through every stage takes minutes: `make test-all`
def test_demo_runs_every_stage_without_an_error_line(tmp_path: Path) -> None:
    result = run_csp("demo", cwd=tmp_path, env={"CSP_SANDBOX_PORT": str(free_port()),
                                                 "CSP_SANDBOX_DIR": str(tmp_path / "sb"),
                                                 "CSP_DUCKDB_PATH": str(tmp_path / "wh.duckdb")},
                     timeout=1800)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "ERROR" not in output
    world = tmp_path / "sb" / "small-seed7"
    assert (world / "world.sqlite").exists()
    for stage in ("ingest", "transform", "validate", "activate"):
        assert any(line.split()[:2] == [stage, "completed"]
                   for line in result.stdout.splitlines()), stage
    for source in ("hubspot", "stripe", "zendesk", "product"):
        summary = [line for line in result.stdout.splitlines()
                   if line.strip().startswith(f"raw_{source} ")]
        assert summary and int(summary[0].split()[-2]) > 0, summary   # rows in the warehouse
    assert "<svg" in (world / "report.html").read_text()
    delivered = json.loads((world / "delivered.json").read_text())
    assert any(item["vendor"] == "slack" for item in delivered)
