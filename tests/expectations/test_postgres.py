"""The same suites on PostgreSQL: pushed down through psycopg2, same verdicts as on DuckDB."""

from __future__ import annotations

from pathlib import Path

from csp.warehouse import Warehouse
from expectations import catalog, parameters, record, runner
from expectations.gate import activation_gate
from tests.expectations.conftest import CORRUPTIONS, SOURCES, execute, validate_and_record


def test_postgres_clean_passes_then_a_score_of_130_fails_and_the_gate_refuses(
        built_postgres_copy: Warehouse, tmp_path: Path) -> None:
    clean = validate_and_record(built_postgres_copy, tmp_path / "gx", "clean")
    assert [f for v in clean.verdicts for f in v.failures] == []
    assert activation_gate(built_postgres_copy).allowed

    execute(built_postgres_copy, CORRUPTIONS["score 130"])
    values = parameters.resolve(SOURCES)
    corrupted = runner.validate(built_postgres_copy,
                                catalog.domains(SOURCES, values, ["account_health"]), values,
                                tmp_path / "gx")
    (verdict,) = corrupted.verdicts
    failed = {(f.asset, f.column): f for f in verdict.failures}
    score = failed[("fct_account_health_daily", "health_score")]
    assert score.observed.startswith("1 of ")
    assert any("130" in str(row) for row in score.sample)
    db = record.open_db(built_postgres_copy)
    try:
        record.save(db, "corrupted", corrupted.verdicts, record.inputs_state(db), values)
    finally:
        db.conn.close()
    decision = activation_gate(built_postgres_copy)
    assert not decision.allowed
    assert decision.reason.startswith("latest validation failed: account_health (")
