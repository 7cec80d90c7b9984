"""The activation gate, asked directly: allow only fresh passes; overrides are recorded."""

from __future__ import annotations

from pathlib import Path

from csp.warehouse import Warehouse
from expectations import record
from expectations.gate import activation_gate
from tests.dbt_fixtures import BuiltWarehouse
from tests.expectations.conftest import Validated, copy_duckdb_file, duckdb_copy, execute


def copy_of(validated: Validated, folder: Path) -> Warehouse:
    """A writable copy of a validated warehouse, its recorded verdict included."""
    return copy_duckdb_file(validated.warehouse.duckdb_path, folder)


def test_a_fresh_pass_is_allowed(clean_duckdb: Validated) -> None:
    decision = activation_gate(clean_duckdb.warehouse)
    assert decision.allowed and not decision.overridden, decision.reason


def test_a_failed_validation_is_refused_naming_each_failed_suite(
        corrupted_duckdb: Validated) -> None:
    decision = activation_gate(corrupted_duckdb.warehouse)
    assert not decision.allowed
    assert decision.reason.startswith("latest validation failed: ")
    for suite in ("raw_sources", "account_health", "retention", "activation_inputs"):
        assert suite in decision.reason
    assert "expansion" not in decision.reason


def test_marts_never_validated_are_refused(built_duckdb: BuiltWarehouse,
                                          tmp_path: Path) -> None:
    decision = activation_gate(duckdb_copy(built_duckdb, tmp_path))
    assert not decision.allowed
    assert decision.reason == ("never validated: raw_sources, account_health, retention, "
                               "expansion, activation_inputs")


def test_a_load_after_the_validation_makes_it_stale(clean_duckdb: Validated,
                                                     tmp_path: Path) -> None:
    warehouse = copy_of(clean_duckdb, tmp_path)
    execute(warehouse, "insert into raw_stripe._dlt_loads (load_id, schema_name, status, "
                       "inserted_at, schema_version_hash) select load_id || '1', schema_name, "
                       "0, current_timestamp, schema_version_hash from raw_stripe._dlt_loads "
                       "limit 1")
    decision = activation_gate(warehouse)
    assert not decision.allowed
    assert decision.reason.startswith("inputs newer than the validation: raw data loaded at ")


def test_marts_changed_after_the_validation_are_refused(clean_duckdb: Validated,
                                                        tmp_path: Path) -> None:
    warehouse = copy_of(clean_duckdb, tmp_path)
    execute(warehouse, "delete from marts.fct_expansion_signals where account_id = "
                       "(select min(account_id) from marts.fct_expansion_signals)")
    decision = activation_gate(warehouse)
    assert not decision.allowed
    assert decision.reason.startswith("marts changed since ")


def test_an_operator_override_lets_a_refusal_through_and_is_recorded(
        corrupted_duckdb: Validated, tmp_path: Path) -> None:
    warehouse = copy_of(corrupted_duckdb, tmp_path)
    decision = activation_gate(warehouse, override_reason="INC-42: known Stripe backfill",
                               operator="alice")
    assert decision.allowed and decision.overridden
    assert decision.reason.startswith("overridden by alice (INC-42: known Stripe backfill)")
    db = record.open_db(warehouse)
    try:
        rows = db.query("select operator, reason, refusal from ops.gate_overrides")
    finally:
        db.conn.close()
    assert len(rows) == 1
    assert (rows[0]["operator"], rows[0]["reason"]) == ("alice", "INC-42: known Stripe backfill")
    assert rows[0]["refusal"].startswith("latest validation failed: ")
    assert not activation_gate(warehouse).allowed      # an override is for one decision only
