"""Flows: pull sources into the warehouse's `raw_<source>` schemas.

`ingest_source` loads one source; `ingest` runs several at once as concurrent tasks — their
extraction overlaps (threads), their loads into one DuckDB file are serialised by the loader.
A source that fails (wrong credentials, a vendor down) does not stop the others: `ingest`
finishes them, publishes what loaded, then fails naming each failed source in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from csp.settings import load_settings
from csp.warehouse import Warehouse
from integrations.loader import LoadReport, WarehouseLoader
from integrations.sources import build_source


class IngestFailed(Exception):
    """One or more sources failed; the message names each with its one-line reason."""


@task(name="load-source", task_run_name="load-{source}")
def load_source(source: str, full_refresh: bool = False) -> dict[str, Any]:
    """Extract one source and load it; retries live in the HTTP layer, not here."""
    settings = load_settings(dotenv=Path(".env"))
    loader = WarehouseLoader(Warehouse.from_settings(settings))
    run = build_source(settings.vendors[source])
    report = loader.load(run.source, full_refresh=full_refresh,
                         http_stats=run.session.stats.snapshot)
    publish_report(report)
    return report.as_dict()


def publish_report(report: LoadReport) -> None:
    """The per-table counts as a Prefect table artifact, keyed by source."""
    create_table_artifact(
        key=f"ingest-{report.source}",
        table=[{"table": t.table, "extracted": t.extracted, "loaded": t.loaded,
                "quarantined": t.quarantined, "new_columns": ", ".join(t.new_columns)}
               for t in report.tables],
        description=f"`{report.dataset}`: {report.extracted} extracted, {report.loaded} "
                    f"loaded, {report.quarantined} quarantined in {report.seconds:.1f}s",
    )


@flow(name="ingest-source", flow_run_name="ingest-{source}")
def ingest_source(source: str, full_refresh: bool = False) -> dict[str, Any]:
    """Load one source (deployed once per source in prefect.yaml)."""
    return load_source(source, full_refresh)


@flow(name="ingest")
def ingest(sources: list[str] | None = None, full_refresh: bool = False,
           ) -> dict[str, dict[str, Any]]:
    """Load every configured source (or `sources`) concurrently."""
    settings = load_settings(dotenv=Path(".env"))
    chosen = sources or list(settings.sources)
    futures = {name: load_source.submit(name, full_refresh) for name in chosen}
    results: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    for name, future in futures.items():
        try:
            results[name] = future.result()
        except Exception as exc:  # one source's failure must not hide the others' results
            failures[name] = one_line(exc)
    create_markdown_artifact(key="ingest-summary", markdown=summary_markdown(results, failures))
    if failures:
        raise IngestFailed("; ".join(f"{name}: {reason}" for name, reason in failures.items()))
    return results


def one_line(exc: BaseException) -> str:
    """The first line of an error's message (our errors are written to fit on one line)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def summary_markdown(results: dict[str, dict[str, Any]], failures: dict[str, str]) -> str:
    rows = ["| source | extracted | loaded | quarantined | seconds | status |",
            "|---|---:|---:|---:|---:|---|"]
    for name, report in results.items():
        tables = report["tables"]
        rows.append(f"| {name} | {sum(t['extracted'] for t in tables)} | "
                    f"{sum(t['loaded'] for t in tables)} | "
                    f"{sum(t['quarantined'] for t in tables)} | {report['seconds']:.1f} | ok |")
    rows += [f"| {name} | | | | | failed: {reason} |" for name, reason in failures.items()]
    return "\n".join(rows)
