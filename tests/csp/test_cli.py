"""The `csp` command as a user meets it: help, and one-line errors instead of tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_csp(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "csp", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, cwd=cwd,
                          timeout=timeout)


def test_help_lists_the_commands() -> None:
    result = run_csp("--help")
    assert result.returncode == 0
    for command in ("demo", "config", "sandbox"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("config",), {"CSP_SANDBOX_PORT": "abc"}, "CSP_SANDBOX_PORT='abc' is not a whole number"),
        (("sandbox", "step", "1"), {}, "no world at"),
        (("sandbox", "serve", "--rate-limit", "stripe=fast"), {}, "--rate-limit 'stripe=fast'"),
        (("sandbox", "load-fixtures", "/nonexistent/fixtures"), {}, "does not exist"),
        (("sandbox", "fault", "--port", "1", "--clear"), {}, "no sandbox answering"),
    ],
)
def test_user_mistakes_end_in_one_line_and_exit_2(args: tuple[str, ...], env: dict[str, str],
                                                  message: str) -> None:
    result = run_csp(*args, env=env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_config_masks_credentials() -> None:
    result = run_csp("config", env={"CSP_MODE": "production", "CSP_SOURCES": "stripe",
                                    "CSP_STRIPE_API_KEY": "rk_live_S3CR3T",
                                    "CSP_SLACK_BOT_TOKEN": "xoxb-S3CR3T"})
    assert result.returncode == 0, result.stderr
    assert "stripe.api_key" in result.stdout
    assert "S3CR3T" not in result.stdout + result.stderr
