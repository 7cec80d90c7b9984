"""`csp demo` end to end, as `make demo` runs it: real generator, server and HTTP reads."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.csp.test_cli import run_csp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow  # the 24-month world and its ~3.6M usage events take minutes: `make test-all`
def test_demo_runs_every_stage_without_an_error_line(tmp_path: Path) -> None:
    result = run_csp("demo", cwd=tmp_path, env={"CSP_SANDBOX_PORT": str(free_port()),
                                                 "CSP_SANDBOX_DIR": str(tmp_path / "sb"),
                                                 "CSP_DUCKDB_PATH": str(tmp_path / "wh.duckdb")},
                     timeout=1800)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "ERROR" not in output
    assert (tmp_path / "sb" / "small-seed7" / "world.sqlite").exists()
    for source in ("hubspot", "stripe", "zendesk", "product"):
        assert f"raw_{source}: " in result.stdout           # the source's load report
        summary = [line for line in result.stdout.splitlines()
                   if line.strip().startswith(f"raw_{source} ")]
        assert summary and int(summary[0].split()[-2]) > 0, summary   # rows in the warehouse
