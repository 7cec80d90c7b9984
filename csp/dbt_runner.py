"""Run dbt in-process against the configured warehouse and keep what each node did.

The transform flow, `csp transform` and the test harness all invoke dbt the same way: the
programmatic `dbtRunner`, connection details from `Warehouse.dbt_env()` (the variables
`dbt_project/profiles.yml` reads), the run's own target and log folders (so concurrent runs do
not clobber each other's manifests), and no calls home. The result is reduced to plain data —
one `NodeResult` per seed, model, snapshot and test — that a Prefect artifact, a CLI summary
and an assertion can all read without knowing dbt's result classes.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from csp.warehouse import Warehouse

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"

# dbt reads its profile from process-wide environment variables, so two invocations in one
# process must not interleave their connection settings.
_INVOKE_LOCK = threading.Lock()

FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
_ERROR_HEADER = re.compile(r"^[A-Za-z ]*Error in [a-z_ ]+ \S+")


@dataclass(frozen=True)
class NodeResult:
    """What dbt did with one node: a model built, a test passed or failed, a seed loaded."""

    unique_id: str
    name: str
    resource_type: str                 # model | test | seed | snapshot | unit_test
    status: str                        # success | pass | warn | fail | error | skipped
    execution_time: float              # seconds
    rows_affected: int | None = None   # when the adapter reports it
    failures: int | None = None        # failing rows of a test
    message: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    def problem(self) -> str:
        """`name: reason` on one line, for errors that name the failed nodes. dbt's messages
        open with a header (`Runtime Error in test <name> (<path>)`); the reason is below it."""
        lines = [line.strip() for line in (self.message or "").splitlines() if line.strip()]
        if len(lines) > 1 and _ERROR_HEADER.match(lines[0]):
            lines = lines[1:]
        return f"{self.name}: {lines[0] if lines else self.status}"


@dataclass(frozen=True)
class DbtRun:
    """One dbt invocation: its arguments, per-node results and overall outcome."""

    args: tuple[str, ...]
    success: bool
    seconds: float
    nodes: tuple[NodeResult, ...] = ()
    error: str | None = None           # dbt itself failed (parse error, no connection, ...)
    target_path: Path | None = field(default=None, compare=False)

    @property
    def failed_nodes(self) -> list[NodeResult]:
        return [node for node in self.nodes if node.failed]

    def node(self, name: str) -> NodeResult:
        """The result of the node called `name` (a model, seed or test name)."""
        matches = [node for node in self.nodes if node.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} nodes named {name!r} in this run")
        return matches[0]

    def counts(self) -> dict[str, Counter[str]]:
        """Per resource type, how many nodes ended in each status."""
        tally: dict[str, Counter[str]] = {}
        for node in self.nodes:
            tally.setdefault(node.resource_type, Counter())[node.status] += 1
        return tally

    def summary_lines(self) -> list[str]:
        """One line per kind of node and the elapsed time, e.g. `models: 41 built, 1 error`."""
        words = {"success": "built", "pass": "passed"}
        lines = []
        for kind, statuses in sorted(self.counts().items()):
            parts = [f"{count} {words.get(status, status)}"
                     for status, count in sorted(statuses.items(), key=lambda s: -s[1])]
            lines.append(f"{kind.replace('_', ' ')}s: {', '.join(parts)}")
        if self.error:
            lines.append(f"dbt failed: {self.error}")
        lines.append(f"elapsed: {self.seconds:.1f}s")
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {"args": list(self.args), "success": self.success, "seconds": self.seconds,
                "error": self.error, "nodes": [asdict(node) for node in self.nodes]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DbtRun:
        return cls(args=tuple(data["args"]), success=data["success"], seconds=data["seconds"],
                   error=data.get("error"),
                   nodes=tuple(NodeResult(**node) for node in data["nodes"]))


def dbt_args(command: str, *, target_path: Path, log_path: Path,
             select: Sequence[str] = (), exclude: Sequence[str] = (),
             full_refresh: bool = False, dbt_vars: Mapping[str, Any] | None = None,
             project_dir: Path = PROJECT_DIR) -> list[str]:
    """The command line for one dbt command (`build`, `docs generate`, ...) on this project
    (profiles live beside it)."""
    args = [*command.split(), "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            "--target-path", str(target_path), "--log-path", str(log_path),
            "--no-send-anonymous-usage-stats", "--no-version-check", "--no-use-colors",
            # The console gets warnings and errors only; every node's line stays in the log
            # file under log_path, and the per-node results are returned and published.
            "--log-level", "warn"]
    if select:
        # Tests run only when every model they read is selected: a partial build must not
        # fail on a test that joins a model this run did not build.
        args += ["--select", *select, "--indirect-selection", "cautious"]
    if exclude:
        args += ["--exclude", *exclude]
    if full_refresh:
        args.append("--full-refresh")
    if dbt_vars:
        args += ["--vars", json.dumps(dict(dbt_vars), sort_keys=True)]
    return args


def run_dbt(warehouse: Warehouse, args: Sequence[str]) -> DbtRun:
    """Invoke dbt with `args` (see `dbt_args`) against `warehouse`; never raises for a
    failing model or test — the caller decides what a failure means."""
    from dbt.cli.main import dbtRunner

    started = time.monotonic()
    with _INVOKE_LOCK, _environment({**warehouse.dbt_env(), "DO_NOT_TRACK": "1"}):
        try:
            outcome = dbtRunner().invoke(list(args))
        finally:
            _release_duckdb()
    nodes = tuple(_node_result(result) for result in _results(outcome.result))
    error = None if outcome.exception is None else _one_line(outcome.exception)
    target = Path(args[args.index("--target-path") + 1]) if "--target-path" in args else None
    return DbtRun(args=tuple(args), success=bool(outcome.success), nodes=nodes,
                  seconds=round(time.monotonic() - started, 3), error=error,
                  target_path=target)


def _release_duckdb() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open in this process after a run.

    dbt-duckdb caches one DuckDB instance per process (a class-level environment). Left
    open, the next stage in the same process (validation, activation, the report) cannot
    open the same file with other settings, e.g. read-only: DuckDB refuses "a connection to
    same database file with a different configuration".
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:          # dbt-duckdb not installed: nothing is held open
        return
    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
        DuckDBConnectionManager.close_all_connections()


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _results(result: Any) -> list[Any]:
    """Node results of commands that run nodes (build/run/test/seed); none for others."""
    return list(getattr(result, "results", None) or [])


def _node_result(result: Any) -> NodeResult:
    node = result.node
    response = getattr(result, "adapter_response", None) or {}
    rows = response.get("rows_affected")
    return NodeResult(
        unique_id=node.unique_id,
        name=node.name,
        resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
        status=str(getattr(result.status, "value", result.status)),
        execution_time=round(float(result.execution_time or 0.0), 3),
        rows_affected=rows if isinstance(rows, int) and rows >= 0 else None,
        failures=result.failures,
        message=result.message,
    )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())
