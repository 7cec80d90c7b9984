"""Run the domain suites against the warehouse with Great Expectations, in the database.

A file-backed GX context under `gx_dir` stores the suites, validation definitions,
checkpoints (one per domain), every validation result, and the Data Docs site
(`<gx_dir>/gx/uncommitted/data_docs/local_site/index.html`). Suites are rebuilt from code on
every run, so the files there are outputs, never edited by hand.

Every expectation becomes SQL that runs in the warehouse (GX's SQLAlchemy execution engine):
whole tables never travel into Python, only aggregates and a capped sample of failing rows.
DuckDB is read through the read-only dialect of `integrations.gx_duckdb`; PostgreSQL
through psycopg2 over TCP. The connection string reaches GX through an environment variable
(`${CSP_GX_WAREHOUSE_URL}`), so no password or machine path is written into the context's
configuration files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")   # no network calls home

import great_expectations as gx  # noqa: E402
from great_expectations.core.run_identifier import RunIdentifier  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.expectations import UnexpectedRowsExpectation  # noqa: E402

from csp.warehouse import Warehouse  # noqa: E402
from expectations.spec import AssetChecks, DomainSuite, row_result_format  # noqa: E402
from expectations.verdicts import Failure, SuiteVerdict, failure_from_result  # noqa: E402
from integrations import gx_duckdb  # noqa: E402

DATASOURCE = "warehouse"
URL_VARIABLE = "CSP_GX_WAREHOUSE_URL"
SQL_SUFFIX = ".sql_checks"
DOCS_INDEX = Path("gx") / "uncommitted" / "data_docs" / "local_site" / "index.html"


@dataclass(frozen=True)
class ValidationRun:
    """The verdict of each domain suite, and where the Data Docs are."""

    verdicts: list[SuiteVerdict]
    docs_index: Path

    @property
    def success(self) -> bool:
        return all(verdict.success for verdict in self.verdicts)


def sqlalchemy_url(warehouse: Warehouse) -> tuple[str, dict[str, Any]]:
    """The URL and engine options GX connects with."""
    if warehouse.engine == "duckdb":
        gx_duckdb.register()
        return (gx_duckdb.readonly_url(warehouse.duckdb_path),
                {"connect_args": {"read_only": True}})
    assert warehouse.postgres_dsn is not None
    dsn = warehouse.postgres_dsn.reveal()
    return "postgresql+psycopg2://" + dsn.split("://", 1)[1], {}


@contextmanager
def _url_in_environment(url: str) -> Iterator[None]:
    previous = os.environ.get(URL_VARIABLE)
    os.environ[URL_VARIABLE] = url
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(URL_VARIABLE, None)
        else:
            os.environ[URL_VARIABLE] = previous


def validate(warehouse: Warehouse, suites: list[DomainSuite], params: Mapping[str, float],
             gx_dir: Path, run_name: str | None = None) -> ValidationRun:
    """Run every suite's checkpoint; a missing table fails its suite instead of the run."""
    url, engine_kwargs = sqlalchemy_url(warehouse)
    context = gx.get_context(mode="file", project_root_dir=str(gx_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    with _url_in_environment(url):
        if DATASOURCE in context.data_sources.all():
            context.data_sources.delete(DATASOURCE)
        source = context.data_sources.add_sql(name=DATASOURCE,
                                              connection_string=f"${{{URL_VARIABLE}}}",
                                              kwargs=engine_kwargs)
        try:
            # The run name files GX's results and Data Docs under the run id the warehouse
            # records, so a row of ops.validation_runs leads to its pages.
            run_id = RunIdentifier(run_name=run_name) if run_name else None
            outcomes = [_run_suite(context, source, suite, params, run_id) for suite in suites]
            # One Data Docs build for this run's results (a per-checkpoint action would
            # re-render the site once per validation).
            context.build_data_docs(resource_identifiers=[
                identifier for _, identifiers in outcomes for identifier in identifiers])
        finally:
            source.get_execution_engine().close()
            if warehouse.engine == "duckdb":
                gx_duckdb.close_connections()     # release the file for the verdict's writer
    return ValidationRun([verdict for verdict, _ in outcomes], Path(gx_dir) / DOCS_INDEX)


def _run_suite(context: Any, source: Any, suite: DomainSuite, params: Mapping[str, float],
               run_id: RunIdentifier | None) -> tuple[SuiteVerdict, list[Any]]:
    """The suite's verdict and the identifiers of the validation results it stored.

    GX applies one result format per checkpoint run, and a failing row can only be named by
    key columns that format lists; so each asset's column checks get their own checkpoint
    (a bounded SUMMARY naming the asset's keys), and the domain's SQL checks share one that
    returns their (capped) offending rows.
    """
    failures: list[Failure] = []
    sql_checks: list[Any] = []
    runs: list[tuple[str, list[Any], dict[str, Any]]] = []
    for checks in suite.assets:
        try:
            batch = _asset(source, suite.name, checks).add_batch_definition_whole_table("all")
        except Exception as exc:  # a mart not built yet: the suite fails, saying which
            failures.append(Failure(suite.name, checks.name, "asset is available", "",
                                    f"error: {str(exc).strip().splitlines()[0][:300]}"))
            continue
        name = f"{suite.name}.{checks.name}"
        columns = [e for e in checks.expectations if not isinstance(e, UnexpectedRowsExpectation)]
        queries = [e for e in checks.expectations if isinstance(e, UnexpectedRowsExpectation)]
        if columns:
            runs.append((name, [_definition(context, name, batch, columns, suite)],
                         row_result_format(checks.keys)))
        if queries:
            sql_checks.append(_definition(context, f"{name}{SQL_SUFFIX}", batch, queries, suite))
    if sql_checks:
        runs.append((f"{suite.name}{SQL_SUFFIX}", sql_checks, {"result_format": "COMPLETE"}))
    evaluated = 0
    identifiers: list[Any] = []
    for name, definitions, result_format in runs:
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=name, validation_definitions=definitions, result_format=result_format))
        result = checkpoint.run(expectation_parameters=dict(params), run_id=run_id)
        identifiers += list(result.run_results)
        for validation in result.run_results.values():
            asset = validation.suite_name.split(".", 1)[1].removesuffix(SQL_SUFFIX)
            for outcome in validation.results:
                evaluated += 1
                if not outcome.success:
                    failures.append(failure_from_result(suite.name, asset, outcome))
    return SuiteVerdict(suite.name, not failures, evaluated, failures), identifiers


def _definition(context: Any, name: str, batch: Any, expectations: list[Any],
                suite: DomainSuite) -> Any:
    gx_suite = context.suites.add_or_update(gx.ExpectationSuite(
        name=name, expectations=[e.copy() for e in expectations],
        meta={"domain": suite.name, "notes": suite.description}))
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=batch, suite=gx_suite))


def _asset(source: Any, domain: str, checks: AssetChecks) -> Any:
    name = f"{domain}.{checks.name}"
    if checks.query is not None:
        # GX accepts only queries starting with SELECT; a subquery lets ours use CTEs.
        return source.add_query_asset(name=name,
                                      query=f"select * from ({checks.query}) as checked")
    return source.add_table_asset(name=name, table_name=checks.table,
                                  schema_name=checks.schema)
