"""The verdicts in the warehouse (`ops.validation_runs`), and what they were judged on.

Activation runs in another flow, maybe another process or machine; what it trusts must be in
the warehouse it reads. Each validation writes one row per domain suite: whether it passed,
its failures (JSON), and the state of the inputs it validated — the newest completed raw load
(`raw_*._dlt_loads`) and a fingerprint of the marts' row counts — taken *before* validating,
so a load or a rebuild that lands during or after the validation makes the verdict stale
rather than silently covering data nobody checked. Operator overrides of the gate are
recorded in `ops.gate_overrides`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from csp.activation.db import Db
from csp.warehouse import Warehouse
from expectations.contract import MART_KEYS, MARTS_SCHEMA
from expectations.verdicts import SuiteVerdict

DDL = (
    "create schema if not exists ops",
    """create table if not exists ops.validation_runs (
        run_id varchar(64) not null,
        suite varchar(64) not null,
        success boolean not null,
        inputs_loaded_at timestamp,
        marts_fingerprint varchar(64) not null,
        validated_at timestamp not null,
        details text not null
    )""",
    """create table if not exists ops.gate_overrides (
        overridden_at timestamp not null,
        operator varchar(200) not null,
        reason text not null,
        refusal text not null
    )""",
)


@dataclass(frozen=True)
class InputsState:
    """What a validation looks at: the newest raw load and the marts' row counts."""

    newest_load: datetime | None
    mart_rows: dict[str, int]

    @property
    def fingerprint(self) -> str:
        text = json.dumps(sorted(self.mart_rows.items()))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def utc_naive(moment: datetime | None) -> datetime | None:
    """Timestamps are stored as naive UTC (the same column type on both engines)."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def open_db(warehouse: Warehouse) -> Db:
    return Db(warehouse.connect(), warehouse.engine)


def inputs_state(db: Db) -> InputsState:
    """The newest completed load over every raw schema, and each existing mart's row count."""
    schemas = [row["table_schema"] for row in db.query(
        "select table_schema from information_schema.tables "
        "where table_name = '_dlt_loads' and table_schema like 'raw%%'")]
    loads = [db.query(f"select max(inserted_at) as newest from {schema}._dlt_loads "
                      f"where status = 0")[0]["newest"] for schema in sorted(schemas)]
    newest = max((utc_naive(load) for load in loads if load is not None), default=None)
    rows = {name: int(db.query(f"select count(*) as n from {MARTS_SCHEMA}.{name}")[0]["n"])
            for name in MART_KEYS if db.table_exists(f"{MARTS_SCHEMA}.{name}")}
    return InputsState(newest, rows)


def ensure_tables(db: Db) -> None:
    for statement in DDL:
        db.execute(statement)
    db.commit()


def save(db: Db, run_id: str, verdicts: Iterable[SuiteVerdict], state: InputsState,
         parameters: Mapping[str, float], validated_at: datetime | None = None) -> None:
    """One row per suite of this run, committed together."""
    ensure_tables(db)
    moment = utc_naive(validated_at or datetime.now(UTC))
    db.execute_many(
        "insert into ops.validation_runs (run_id, suite, success, inputs_loaded_at, "
        "marts_fingerprint, validated_at, details) values (%s, %s, %s, %s, %s, %s, %s)",
        [(run_id, verdict.suite, verdict.success, state.newest_load, state.fingerprint, moment,
          json.dumps({"evaluated": verdict.evaluated,
                      "failures": verdict.as_dict()["failures"],
                      "mart_rows": state.mart_rows, "parameters": dict(parameters)}))
         for verdict in verdicts])
    db.commit()


def latest(db: Db, suites: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The newest recorded row of each suite that has one."""
    if not db.table_exists("ops.validation_runs"):
        return {}
    rows = db.query(
        "select r.run_id, r.suite, r.success, r.inputs_loaded_at, r.marts_fingerprint, "
        "r.validated_at, r.details from ops.validation_runs as r "
        "inner join (select suite, max(validated_at) as validated_at "
        "from ops.validation_runs group by suite) as newest "
        "on newest.suite = r.suite and newest.validated_at = r.validated_at")
    wanted = set(suites)
    return {row["suite"]: row for row in rows if row["suite"] in wanted}


def record_override(db: Db, operator: str, reason: str, refusal: str) -> None:
    ensure_tables(db)
    db.execute("insert into ops.gate_overrides (overridden_at, operator, reason, refusal) "
               "values (%s, %s, %s, %s)",
               (utc_naive(datetime.now(UTC)), operator, reason, refusal))
    db.commit()
