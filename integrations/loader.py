"""Runs a dlt source into the warehouse's `raw_<source>` dataset: exactly once, one DuckDB writer.

`WarehouseLoader(warehouse).load(source)` maps `csp.warehouse.Warehouse` to a dlt destination
(DuckDB file or PostgreSQL), names the pipeline `csp_<source>` and the dataset `raw_<source>`,
and runs dlt's three steps itself so it can hold the DuckDB writer lock only where the file
is touched:

1. packages left by an interrupted run are normalized and loaded first (they carry the data
   *and* the cursor that was extracted with it); rows a killed load job committed without
   dlt recording it are deleted first, so its re-run cannot write them twice
   (`load_resume`);
2. the pipeline state is synchronised from the destination (locked) — the destination is the
   truth, the local working folder a cache: a lost folder is rebuilt from it;
3. extract and normalize run unlocked, so several sources can extract at once;
4. load runs locked; the per-table report is read back from the warehouse.

Why the cursor cannot run ahead of the data: dlt writes the new pipeline state as a row of
`_dlt_pipeline_state` *in the same load package* as the data, and restores state only from a
load that completed (`_dlt_loads.status = 0`). A run killed after extract leaves the package
and its local state pending; the next run loads that package before extracting anything new.
If the working folder is gone too, the state comes back from the last *completed* load and the
data is extracted again (merge by primary key makes that harmless).

Schema drift: `contracts.DLT_SCHEMA_CONTRACT` freezes data types; a value that no longer fits
its column fails normalize, and the loader then aborts the extracted package (restoring the
local cursor) and raises `SchemaDriftError` naming source, table, field and the change. New
columns are reported per table.

DuckDB allows one writer per file: loads into one file are serialised by a process-wide lock
plus `fcntl.flock` on `<db>.lock`; a writer that does not get it within `lock_timeout` seconds
raises `WarehouseBusyError`. The same applies if a process outside the loader (a BI tool, dbt)
holds the file: the step is retried until the timeout. Each pipeline's working folder is also
locked for the whole run, so one source never runs twice at once on the same warehouse.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar
from urllib.parse import urlsplit

import dlt
import pandas  # noqa: F401  (see below)
import pyarrow  # noqa: F401
from dlt.common.destination import Destination
from dlt.common.typing import TRefreshMode
from dlt.destinations.impl.postgres.configuration import PostgresCredentials
from dlt.extract import DltSource
from dlt.pipeline.exceptions import PipelineStepFailed

from csp.warehouse import Warehouse
from integrations.contracts import DLT_SCHEMA_CONTRACT, QUARANTINE_TABLE, SchemaDriftError
from integrations.http import VendorRequestError
from integrations.load_resume import undo_unconfirmed_jobs

# dlt imports pandas and pyarrow lazily, from inside extraction. When several sources extract
# in parallel threads, two threads can race on that first import and one sees a partially
# initialised module ("module 'pandas' has no attribute 'DataFrame'"). Importing them here,
# once, before any extraction thread starts, removes the race.

log = logging.getLogger(__name__)


class _UntypedNullColumnsFilter(logging.Filter):
    """Drops dlt's per-load warning that columns seen only as null were not materialized.

    Vendors send many always-null fields (Stripe's `shipping`, `tax_code`, ...); dlt repeats
    a dozen-line warning about them on every load, burying real warnings. It is expected:
    the columns our models read are declared with types in each source's contract, and a
    field that later arrives with values is added as a column and reported as drift.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "could not have their types inferred" not in record.getMessage()


logging.getLogger("dlt").addFilter(_UntypedNullColumnsFilter())

DEFAULT_LOCK_TIMEOUT = 600.0
# Views in other schemas built on a raw schema's tables (PostgreSQL's dependency catalog).
DEPENDENT_VIEWS_SQL = """
select distinct view_ns.nspname, view_class.relname
from pg_depend as dependency
join pg_rewrite as rewrite on rewrite.oid = dependency.objid
join pg_class as view_class on view_class.oid = rewrite.ev_class
join pg_namespace as view_ns on view_ns.oid = view_class.relnamespace
join pg_class as table_class on table_class.oid = dependency.refobjid
join pg_namespace as table_ns on table_ns.oid = table_class.relnamespace
where table_ns.nspname = %s and view_ns.nspname <> %s and view_class.relkind = 'v'
"""
SOURCE_NAME = re.compile(r"[a-z][a-z0-9_]*")
# Errors that already say everything, with no secret in them: re-raised as they are.
CLEAN_ERRORS: tuple[type[Exception], ...] = (VendorRequestError, SchemaDriftError)
_DLT_TABLE_PREFIX = "_dlt_"
_CONTRACT_VIOLATION = re.compile(
    r"Table: `(?P<table>[^`]+)`\s*(?:Column: `(?P<column>[^`]*)`)?\s*\.\s*"
    r"Contract on `(?P<entity>\w+)`")
_VARIANT = re.compile(r"^(?P<field>.+)__v_(?P<type>[a-z0-9_]+)$")

T = TypeVar("T")


class LoadError(Exception):
    """A load failed for a reason other than the vendor or a contract; names the source."""


class WarehouseBusyError(LoadError):
    """Another writer kept the DuckDB file (or this pipeline) for longer than the timeout."""


@dataclass(frozen=True)
class TableReport:
    """What one run did to one raw table."""

    table: str
    extracted: int = 0
    loaded: int = 0
    quarantined: int = 0
    new_columns: tuple[str, ...] = ()
    new_table: bool = False


@dataclass(frozen=True)
class LoadReport:
    """What one run of one source did, per table; printable and JSON-ready (`as_dict`)."""

    source: str
    dataset: str
    load_ids: tuple[str, ...]
    resumed_load_ids: tuple[str, ...]
    tables: tuple[TableReport, ...]
    seconds: float
    http: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> TableReport:
        for report in self.tables:
            if report.table == name:
                return report
        return TableReport(name)

    @property
    def extracted(self) -> int:
        return sum(t.extracted for t in self.tables)

    @property
    def loaded(self) -> int:
        return sum(t.loaded for t in self.tables)

    @property
    def quarantined(self) -> int:
        return sum(t.quarantined for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadReport:
        """The inverse of `as_dict` (a flow's result crosses Prefect as plain data)."""
        tables = tuple(TableReport(**{**table, "new_columns": tuple(table["new_columns"])})
                       for table in data["tables"])
        return cls(**{**data, "tables": tables, "load_ids": tuple(data["load_ids"]),
                      "resumed_load_ids": tuple(data["resumed_load_ids"])})

    def lines(self) -> list[str]:
        header = (f"{self.dataset}: {self.extracted} extracted, {self.loaded} loaded, "
                  f"{self.quarantined} quarantined in {self.seconds:.1f}s"
                  + (f" (resumed {len(self.resumed_load_ids)} interrupted load(s))"
                     if self.resumed_load_ids else ""))
        width = max([len("table"), *(len(t.table) for t in self.tables)])
        rows = [f"  {'table':<{width}}  extracted  loaded  quarantined  new columns"]
        for t in self.tables:
            new = ", ".join(t.new_columns) or ("(new table)" if t.new_table else "")
            rows.append(f"  {t.table:<{width}}  {t.extracted:>9}  {t.loaded:>6}  "
                        f"{t.quarantined:>11}  {new}".rstrip())
        return [header, *rows]

    def __str__(self) -> str:
        return "\n".join(self.lines())


class WarehouseLoader:
    """Loads dlt sources into one warehouse; one instance may serve many sources and threads."""

    def __init__(self, warehouse: Warehouse, *, pipelines_dir: Path | None = None,
                 lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        # dlt reports anonymous usage to its vendor unless told not to; customer pipelines
        # must not phone home (and run offline). An explicit user setting still wins.
        os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
        self.warehouse = warehouse
        self.pipelines_dir = (pipelines_dir or default_pipelines_dir(warehouse)).resolve()
        self.lock_timeout = lock_timeout

    # -- wiring ------------------------------------------------------------------------------

    def destination(self) -> Destination[Any, Any]:
        if self.warehouse.engine == "duckdb":
            path = self.warehouse.duckdb_path.resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            return dlt.destinations.duckdb(credentials=str(path))
        if self.warehouse.postgres_dsn is None:
            raise LoadError("the warehouse engine is postgres but no DSN is configured")
        return dlt.destinations.postgres(credentials=postgres_credentials(
            self.warehouse.postgres_dsn.reveal()))

    @property
    def file_format(self) -> Literal["parquet"] | None:
        """Parquet into DuckDB (measured ~5x faster loads than the default insert files);
        PostgreSQL keeps dlt's default, since parquet there needs the ADBC driver."""
        return "parquet" if self.warehouse.engine == "duckdb" else None

    def pipeline(self, source_name: str) -> dlt.Pipeline:
        """The dlt pipeline of one source: `csp_<source>` writing `raw_<source>`."""
        if not SOURCE_NAME.fullmatch(source_name):
            raise LoadError(f"source name {source_name!r} must be lowercase letters, digits "
                            f"and underscores")
        return dlt.pipeline(pipeline_name=f"csp_{source_name}",
                            pipelines_dir=str(self.pipelines_dir),
                            destination=self.destination(),
                            dataset_name=f"raw_{source_name}")

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Exclusive right to write the warehouse (DuckDB only; PostgreSQL has its own)."""
        if self.warehouse.engine != "duckdb":
            yield
            return
        path = self.warehouse.duckdb_path.resolve()
        with file_lock(path.with_name(path.name + ".lock"), self.lock_timeout,
                       f"DuckDB file {path}"):
            yield

    # -- the run -----------------------------------------------------------------------------

    def load(self, source: DltSource, *, full_refresh: bool = False,
             http_stats: Callable[[], dict[str, Any]] | None = None) -> LoadReport:
        """Extract `source` and load it into `raw_<source.name>`; return the per-table report.

        `full_refresh` drops the source's tables and cursors and loads everything again, except
        append-only history (see `refresh_plan`).
        `http_stats` (e.g. `session.stats.snapshot`) is called at the end for the report.
        """
        name = source.name
        started = time.monotonic()
        with file_lock(self.pipelines_dir / f"csp_{name}.lock", self.lock_timeout,
                       f"pipeline csp_{name}"):
            pipeline = self.pipeline(name)
            resumed, resumed_rows = self._finish_interrupted(pipeline, name)
            self._locked_step(name, "sync", pipeline.sync_destination)
            columns_before = _table_columns(pipeline)
            if full_refresh:
                self._drop_dependent_views(pipeline.dataset_name)
            extracted = Counter[str]()
            for part, refresh in refresh_plan(source, full_refresh):
                extracted += self._extract(pipeline, part, refresh)
            load_ids = tuple(pipeline.list_extracted_load_packages())
            normalized_rows = self._normalize(pipeline, name)
            self._locked_step(name, "load", pipeline.load)
            with self.writer_lock():
                loaded, quarantined = _count_in_warehouse(pipeline, (*resumed, *load_ids))
        tables = _table_reports(pipeline, columns_before, extracted, loaded, quarantined,
                                resumed_rows + normalized_rows)
        return LoadReport(source=name, dataset=pipeline.dataset_name, load_ids=load_ids,
                          resumed_load_ids=resumed, tables=tables,
                          seconds=round(time.monotonic() - started, 3),
                          http=http_stats() if http_stats else {})

    def _drop_dependent_views(self, schema: str) -> None:
        """Drop the views outside `schema` that read its tables (dbt's staging views).

        A full refresh drops and recreates the raw tables; PostgreSQL refuses to drop a table
        a view depends on ("cannot drop table ... because other objects depend on it"). The
        views are dbt's to rebuild: the next `csp transform` creates them again. DuckDB views
        bind late, so nothing is needed there.
        """
        if self.warehouse.engine != "postgres":
            return
        with closing(self.warehouse.connect()) as conn, conn.cursor() as cursor:
            cursor.execute(DEPENDENT_VIEWS_SQL, (schema, schema))
            views = cursor.fetchall()
            for view_schema, view in views:
                cursor.execute(f'drop view if exists "{view_schema}"."{view}" cascade')
            conn.commit()
        if views:
            log.info("full refresh of %s: dropped %d dependent view(s) (%s); the next "
                     "transform rebuilds them", schema, len(views),
                     ", ".join(f"{a}.{b}" for a, b in views))

    def stored_state(self, source_name: str) -> dict[str, Any]:
        """The pipeline state of the last *completed* load, as the destination holds it.

        Restored into a throwaway working folder, exactly as a run on a fresh machine would
        restore it: its cursors never run ahead of the data loaded with them. Empty when
        nothing was loaded yet.
        """
        with tempfile.TemporaryDirectory(prefix="csp-state-") as scratch:
            pipeline = dlt.pipeline(pipeline_name=f"csp_{source_name}", pipelines_dir=scratch,
                                    destination=self.destination(),
                                    dataset_name=f"raw_{source_name}")
            self._locked_step(source_name, "sync", pipeline.sync_destination)
            return dict(pipeline.state) if not pipeline.first_run else {}

    # -- steps -------------------------------------------------------------------------------

    def _finish_interrupted(self, pipeline: dlt.Pipeline, name: str,
                            ) -> tuple[tuple[str, ...], Counter[str]]:
        """Load packages an interrupted run left behind; return their ids and normalized rows."""
        if not pipeline.has_pending_data:
            return (), Counter()
        rows = self._normalize(pipeline, name) if pipeline.list_extracted_load_packages() \
            else Counter()
        pending = tuple(pipeline.list_normalized_load_packages())
        self._locked_step(name, "load", lambda: _resume_load(pipeline))
        return pending, rows

    def _extract(self, pipeline: dlt.Pipeline, source: DltSource,
                 refresh: TRefreshMode | None) -> Counter[str]:
        """Extract `source` into a new package; return the rows extracted per table."""
        return _extracted_rows(self._step(source.name, "extract", lambda: pipeline.extract(
            source, schema_contract=DLT_SCHEMA_CONTRACT, loader_file_format=self.file_format,
            refresh=refresh)))

    def _normalize(self, pipeline: dlt.Pipeline, name: str) -> Counter[str]:
        """Normalize extracted packages; on a frozen-type violation rewind and raise drift."""
        try:
            info = pipeline.normalize()
        except PipelineStepFailed as exc:
            drift = _drift_from_violation(exc)
            if drift is None:
                _reraise(name, "normalize", exc)
            with self.writer_lock():
                pipeline.abort_packages()
            column = pipeline.default_schema.get_table_columns(drift.table).get(drift.field, {})
            was = column.get("data_type", "unknown")
            raise SchemaDriftError(name, drift.table, drift.field, f"changed type from {was} "
                                   f"to {drift.new_type} (values no longer fit the column; "
                                   f"data types are frozen)") from None
        return Counter(info.row_counts if info else {})

    def _step(self, name: str, step: str, run: Callable[[], T]) -> T:
        try:
            return run()
        except PipelineStepFailed as exc:
            _reraise(name, step, exc)

    def _locked_step(self, name: str, step: str, run: Callable[[], T]) -> T:
        """Run a step that opens the warehouse, holding the writer lock; wait out a DuckDB
        lock held by a process that is not a loader (dbt, a BI tool), up to the timeout."""
        deadline = time.monotonic() + self.lock_timeout
        while True:
            with self.writer_lock():
                try:
                    return run()
                except PipelineStepFailed as exc:
                    if not _duckdb_file_locked(exc):
                        _reraise(name, step, exc)
            if time.monotonic() >= deadline:
                raise WarehouseBusyError(
                    f"{name}: DuckDB file {self.warehouse.duckdb_path} is held by another "
                    f"process for more than {self.lock_timeout:g}s; close it and re-run")
            time.sleep(0.2)


def refresh_plan(source: DltSource, full_refresh: bool,
                 ) -> list[tuple[DltSource, TRefreshMode | None]]:
    """The extractions of one run: the source as it is, or what a full refresh drops first.

    A full refresh keeps append-only tables (write disposition `append`), their cursors and
    every resource fed by them: they hold history the API may no longer serve (Stripe keeps
    events 30 days), which dropping would lose for good. Their group of resources is then
    extracted incrementally, after the other resources were dropped and extracted in full,
    so the rebuilt object tables come first and the newest events are merged over them.
    Without append-only tables the whole source is dropped, source-level state included.
    """
    if not full_refresh:
        return [(source, None)]
    kept: list[str] = []
    for group in source.decompose("scc"):
        resources = group.resources.selected
        if any(resource.write_disposition == "append" for resource in resources.values()):
            kept.extend(resources)
    if not kept:
        return [(source, "drop_sources")]
    rebuilt = [name for name in source.resources.selected if name not in kept]
    return [(source.with_resources(*rebuilt), "drop_resources"),
            (source.with_resources(*kept), None)]


def _resume_load(pipeline: dlt.Pipeline) -> None:
    """Load interrupted packages, first undoing jobs that may have committed unrecorded."""
    undo_unconfirmed_jobs(pipeline)
    pipeline.load()


@dataclass(frozen=True)
class _Violation:
    table: str
    field: str
    new_type: str


def _drift_from_violation(exc: PipelineStepFailed) -> _Violation | None:
    """The table/column/type of a frozen data-type violation in a normalize failure, if any."""
    found = _CONTRACT_VIOLATION.search(str(exc.exception))
    if not found or found.group("entity") != "data_type":
        return None
    column = found.group("column") or ""
    variant = _VARIANT.match(column)
    if variant:
        return _Violation(found.group("table"), variant.group("field"), variant.group("type"))
    return _Violation(found.group("table"), column, "another type")


def _reraise(name: str, step: str, exc: PipelineStepFailed) -> NoReturn:
    """Raise what a failed dlt step means: our own error as it is (it is already clear and
    holds no secret, unlike dlt's chain), else a one-line `LoadError` naming source and step."""
    cause: BaseException | None = exc
    seen = set()
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, CLEAN_ERRORS):
            raise cause from None
        inner = getattr(cause, "exception", None)
        cause = inner if isinstance(inner, BaseException) else (cause.__cause__
                                                                 or cause.__context__)
    root = exc.exception
    first_line = str(root).strip().splitlines()[0] if str(root).strip() else ""
    raise LoadError(f"{name}: {step} step failed: {type(root).__name__}: {first_line}") from exc


def _duckdb_file_locked(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if "Could not set lock on file" in str(cause):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _table_columns(pipeline: dlt.Pipeline) -> dict[str, set[str]]:
    if not pipeline.default_schema_name:
        return {}
    schema = pipeline.default_schema
    return {name: set(schema.get_table_columns(name)) for name in schema.data_table_names()}


def _extracted_rows(info: Any) -> Counter[str]:
    rows: Counter[str] = Counter()
    for load_id in info.loads_ids:
        for metrics in info.metrics.get(load_id, []):
            for table, writer in metrics.get("table_metrics", {}).items():
                rows[table] += writer.items_count
    return rows


def _count_in_warehouse(pipeline: dlt.Pipeline, load_ids: Sequence[str],
                        ) -> tuple[Counter[str], Counter[str]]:
    """Rows each table holds from these loads, and quarantined rows per source table."""
    loaded: Counter[str] = Counter()
    quarantined: Counter[str] = Counter()
    if not load_ids or not pipeline.default_schema_name:
        return loaded, quarantined
    schema = pipeline.default_schema
    marks = ", ".join(["%s"] * len(load_ids))
    with pipeline.sql_client() as client:
        for table in schema.data_table_names():
            if "_dlt_load_id" not in schema.get_table_columns(table):
                continue
            name = client.make_qualified_table_name(table)
            if table == QUARANTINE_TABLE:
                rows = client.execute_sql(
                    f"select table_name, count(*) from {name} where _dlt_load_id in ({marks}) "
                    f"group by table_name", *load_ids)
                quarantined.update({str(t): int(n) for t, n in rows or []})
                continue
            rows = client.execute_sql(
                f"select count(*) from {name} where _dlt_load_id in ({marks})", *load_ids)
            loaded[table] = int(rows[0][0]) if rows else 0
    return loaded, quarantined


def _table_reports(pipeline: dlt.Pipeline, before: dict[str, set[str]],
                   extracted: Counter[str], loaded: Counter[str], quarantined: Counter[str],
                   normalized: Counter[str]) -> tuple[TableReport, ...]:
    after = _table_columns(pipeline)
    names = sorted((set(after) | set(extracted) | set(quarantined)) - {QUARANTINE_TABLE})
    reports = []
    for table in names:
        if table.startswith(_DLT_TABLE_PREFIX):
            continue
        new_columns = sorted(c for c in after.get(table, set()) - before.get(table, set())
                             if not c.startswith(_DLT_TABLE_PREFIX))
        reports.append(TableReport(
            table=table,
            extracted=extracted.get(table, 0),
            loaded=loaded[table] if table in loaded else normalized.get(table, 0),
            quarantined=quarantined.get(table, 0),
            new_columns=tuple(new_columns) if table in before else (),
            new_table=table not in before,
        ))
    return tuple(reports)


def postgres_credentials(dsn: str) -> PostgresCredentials:
    """dlt credentials from a libpq URL, allowing one without a password.

    dlt declares the password required, yet trust/peer auth, `PGPASSWORD` and `~/.pgpass` are
    ordinary ways to run PostgreSQL; an empty password makes libpq look for one as usual.
    """
    credentials = PostgresCredentials()
    credentials.parse_native_representation(dsn)
    if credentials.password is None:
        credentials.password = ""  # type: ignore[assignment]
    return credentials


def default_pipelines_dir(warehouse: Warehouse) -> Path:
    """dlt working folders next to the warehouse, one per warehouse, so none share state."""
    base = warehouse.duckdb_path.resolve().parent / ".dlt"
    if warehouse.engine == "duckdb":
        return base / warehouse.duckdb_path.name
    assert warehouse.postgres_dsn is not None
    parts = urlsplit(warehouse.postgres_dsn.reveal())
    identity = f"{parts.hostname}:{parts.port}/{parts.path.lstrip('/')}?{parts.username}"
    if not parts.hostname:          # key=value DSN or host in the query: hash it, password too
        identity = parts.geturl()
    return base / f"postgres-{hashlib.sha256(identity.encode()).hexdigest()[:12]}"


_PROCESS_LOCKS: dict[Path, threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def _process_lock(path: Path) -> threading.Lock:
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(path, threading.Lock())


@contextmanager
def file_lock(path: Path, timeout: float, what: str) -> Iterator[None]:
    """Hold `path` exclusively across threads (a lock per path) and processes (`flock`).

    The holder writes its pid into the file, so the error can say who is holding it.
    """
    deadline = time.monotonic() + timeout
    thread_lock = _process_lock(path)
    if not thread_lock.acquire(timeout=max(timeout, 0.0)):
        raise WarehouseBusyError(f"{what} is busy: another thread of this process has held it "
                                 f"for more than {timeout:g}s")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+", encoding="utf-8") as handle:
            _flock_until(handle, deadline, timeout, what, path)
            try:
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()}\n")
                handle.flush()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        thread_lock.release()


def _flock_until(handle: Any, deadline: float, timeout: float, what: str, path: Path) -> None:
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                raise WarehouseBusyError(
                    f"{what} is busy: process {holder} has held {path.name} for more than "
                    f"{timeout:g}s") from None
            time.sleep(0.05)
