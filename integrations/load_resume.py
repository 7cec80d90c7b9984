"""Undo what a killed load may have committed for jobs dlt will run again, before it resumes.

dlt 1.31 runs each load job (one file into one table) in a worker thread, commits it, then
writes a "pending transition" marker; on resume, a started job with a marker is taken as done
and a started job without one is run again. A kill between the commit and the marker leaves a
job whose rows are in the database and which will be inserted a second time. dlt's merge
removes such a twin for single tables (by primary key) and nested tables (by row key), but
not for the root of a table with nested tables (`WHERE _dlt_id IN (...)` keeps both copies:
Zendesk tickets doubled), nor for an append table (Stripe events).

So before a package is resumed, every started job without a marker is undone: the rows whose
`_dlt_id` appear in its file are deleted from the table the job writes (the staging table for
merge tables, the table itself otherwise). Rows of a job that never committed are not there,
and the delete finds nothing; rows of one that did are removed, and the re-run writes them once.
`_dlt_id` is random per row, so no other job's rows can match. A file without `_dlt_id` (Arrow
items keep none) is left alone: such tables here are single merge tables, deduplicated by dlt.
SQL jobs (the merges from staging) are left alone too: each runs in one transaction and
running it again gives the same rows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dlt
import pyarrow.parquet
from dlt.common.storages import FileStorage
from dlt.common.storages.load_package import ParsedLoadJobFileName

ROW_KEY = "_dlt_id"
_SCRATCH_TABLE = "csp_unconfirmed_rows"


def undo_unconfirmed_jobs(pipeline: dlt.Pipeline) -> int:
    """Delete the rows of every started-but-unconfirmed job of the pipeline's normalized
    packages from the table it writes; return how many rows were deleted. Call under the
    warehouse writer lock, before `pipeline.load()`."""
    packages = pipeline._get_load_storage().normalized_packages  # noqa: SLF001 (no public API)
    unconfirmed = [
        Path(packages.storage.make_full_path(path))
        for load_id in packages.list_packages()
        for path in packages.list_started_jobs(load_id)
        if packages.load_pending_transition(load_id, os.path.basename(path)) is None
    ]
    if not unconfirmed:
        return 0
    deleted = 0
    with pipeline.destination_client() as job_client, pipeline.sql_client() as sql:
        for path in unconfirmed:
            table = ParsedLoadJobFileName.parse(path.name).table_name
            staged = job_client.should_load_data_to_staging_dataset(table)  # type: ignore[attr-defined]
            if staged:
                with sql.with_staging_dataset():
                    deleted += _delete_rows_of(sql, table, path)
            else:
                deleted += _delete_rows_of(sql, table, path)
    return deleted


def _delete_rows_of(sql: Any, table: str, job_file: Path) -> int:
    """Delete from `table` the rows whose row key is in `job_file`; return how many."""
    parquet = job_file.name.endswith(".parquet")
    if not (parquet or ".insert_values" in job_file.name) or not _has_row_key(sql, table):
        return 0
    name = sql.make_qualified_table_name(table)
    if not parquet:
        return _delete_insert_values(sql, name, job_file)
    if ROW_KEY not in pyarrow.parquet.read_schema(job_file).names:
        return 0
    return _delete_matching(sql, name, f"read_parquet({_literal(str(job_file))})")


def _delete_insert_values(sql: Any, name: str, job_file: Path) -> int:
    """The database parses the job file itself: its INSERT runs into an empty copy of the
    table whose row keys then select the rows to delete (no second parser of dlt's SQL
    literals here). dlt writes its state row this way on DuckDB too, and all rows on
    PostgreSQL."""
    with FileStorage.open_zipsafe_ro(str(job_file), "r", encoding="utf-8") as handle:
        header = handle.readline()
        if f'"{ROW_KEY}"' not in header:
            return 0
        values = handle.read()
    scratch = sql.make_qualified_table_name(_SCRATCH_TABLE)
    sql.execute_sql(f"drop table if exists {scratch}")
    sql.execute_sql(f"create table {scratch} as select * from {name} where 1 = 0")
    try:
        sql.execute_sql(header.format(scratch) + values)
        return _delete_matching(sql, name, scratch)
    finally:
        sql.execute_sql(f"drop table if exists {scratch}")


def _delete_matching(sql: Any, name: str, source: str) -> int:
    where = f"{ROW_KEY} in (select {ROW_KEY} from {source})"
    found = sql.execute_sql(f"select count(*) from {name} where {where}")
    count = int(found[0][0]) if found else 0
    if count:
        sql.execute_sql(f"delete from {name} where {where}")
    return count


def _has_row_key(sql: Any, table: str) -> bool:
    """Whether the table exists in the client's current dataset with a row-key column."""
    schema = sql.fully_qualified_dataset_name(quote=False).split(".")[-1]
    found = sql.execute_sql(
        "select count(*) from information_schema.columns where table_schema = %s and "
        "table_name = %s and column_name = %s", schema, table, ROW_KEY)
    return bool(found and found[0][0])


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
