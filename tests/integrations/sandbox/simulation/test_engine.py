"""The day loop's contract: determinism, step == generate, persistence, clear errors."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from integrations.sandbox.simulation import generate, load_state, step
from integrations.sandbox.simulation.clock import day_start
from tests.integrations.sandbox.simulation.conftest import RecordingWriter, World, record_world

TINY = {"size": "80", "seed": 11, "months": 5, "end": date(2025, 6, 30)}
STEP_DAYS = 30  # 2025-06-30 + 30 days = 2025-07-30: start 2025-01-30 again with months=6


def fingerprint(writer: RecordingWriter) -> str:
    """A hash of everything a recording writer received, in order."""
    digest = hashlib.sha256()
    for kind in sorted(writer.records):
        for record in writer.records[kind]:
            digest.update(json.dumps([kind, record], sort_keys=True).encode())
    for row in writer.usage:
        digest.update(json.dumps(row, sort_keys=True).encode())
    digest.update(json.dumps(writer.truth).encode())
    digest.update(json.dumps(writer.meta, sort_keys=True).encode())
    return digest.hexdigest()


def table_hashes(path: Path) -> dict[str, str]:
    """One hash per table of a world file (rows sorted, so only content counts)."""
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute(
        "select name from sqlite_master where type = 'table' and name != 'sqlite_sequence'")]
    hashes = {}
    for table in tables:
        rows = sorted(repr(row) for row in conn.execute(f"select * from {table}"))
        hashes[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    conn.close()
    return hashes


def combined(first: RecordingWriter, second: RecordingWriter) -> RecordingWriter:
    """What two writers received, as if one writer had received both runs."""
    merged = RecordingWriter(first.path)
    for writer in (first, second):
        for kind, records in writer.records.items():
            merged.records[kind].extend(records)
        merged.usage.extend(writer.usage)
        merged.truth.extend(writer.truth)
        merged.meta.update(writer.meta)
    return merged


def test_same_seed_gives_identical_records(tmp_path: Path) -> None:
    first = record_world(tmp_path / "a", **TINY)
    second = record_world(tmp_path / "b", **TINY)
    assert fingerprint(first.writer) == fingerprint(second.writer)
    assert first.summary.records == second.summary.records


def test_another_seed_gives_another_company(tmp_path: Path) -> None:
    first = record_world(tmp_path / "a", **TINY)
    other = record_world(tmp_path / "b", **{**TINY, "seed": 12})
    assert fingerprint(first.writer) != fingerprint(other.writer)
    names = {a["name"] for a in first.writer.latest("account").values()}
    assert names != {a["name"] for a in other.writer.latest("account").values()}


def test_generate_then_step_equals_generating_straight_through(tmp_path: Path) -> None:
    stepped = record_world(tmp_path / "stepped", **TINY)
    writers: list[RecordingWriter] = []
    summary = step(tmp_path / "stepped", STEP_DAYS,
                   writer_factory=lambda p: writers.append(RecordingWriter(p)) or writers[-1])
    direct = record_world(tmp_path / "direct", **{**TINY, "months": 6,
                                                    "end": date(2025, 7, 30)})
    assert summary.clock == date(2025, 7, 30)
    assert direct.writer.meta["start"] == stepped.writer.meta["start"]
    assert fingerprint(combined(stepped.writer, writers[0])) == fingerprint(direct.writer)


def test_real_world_files_are_identical_for_generate_plus_step_and_straight_through(
        tmp_path: Path) -> None:
    options = {**TINY, "size": "40", "months": 3, "end": date(2025, 4, 30)}
    generate(tmp_path / "once", **options)
    generate(tmp_path / "again", **options)
    generate(tmp_path / "stepped", **{**options, "months": 2, "end": date(2025, 3, 30)})
    step(tmp_path / "stepped", 31)
    generate(tmp_path / "other", **{**options, "seed": 12})
    once = table_hashes(tmp_path / "once" / "world.sqlite")
    assert {"meta", "objects", "events", "usage_daily", "truth"} <= set(once)
    assert once == table_hashes(tmp_path / "again" / "world.sqlite")
    assert once == table_hashes(tmp_path / "stepped" / "world.sqlite")
    other = table_hashes(tmp_path / "other" / "world.sqlite")
    assert other["usage_daily"] != once["usage_daily"]
    assert other["meta"] != once["meta"]


def test_worlds_are_identical_across_processes_with_different_hash_seeds(
        tmp_path: Path) -> None:
    """Nothing may depend on set or dict-of-str iteration order, which varies per process."""
    script = ("import sys, datetime, pathlib; "
              "from integrations.sandbox.simulation import generate; "
              "generate(pathlib.Path(sys.argv[1]), size='30', seed=5, months=1, "
              "end=datetime.date(2025, 3, 31))")
    for name, hash_seed in (("one", "1"), ("two", "2")):
        subprocess.run([sys.executable, "-c", script, str(tmp_path / name)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed}, timeout=120,
                       cwd=Path(__file__).resolve().parents[4])
    assert table_hashes(tmp_path / "one" / "world.sqlite") == table_hashes(
        tmp_path / "two" / "world.sqlite")


def test_meta_records_parameters_and_clock(tmp_path: Path) -> None:
    world = record_world(tmp_path, **TINY)
    meta = world.writer.meta
    assert meta == {"seed": 11, "size": "80", "start": "2025-01-30", "clock": "2025-06-30",
                    "accounts": world.summary.accounts_ever}
    assert world.writer.committed_days == (date(2025, 6, 30) - date(2025, 1, 30)).days + 1
    assert world.writer.closed


def test_generate_refuses_to_overwrite_a_world(tmp_path: Path) -> None:
    record_world(tmp_path, **TINY)
    with pytest.raises(FileExistsError, match="already exists"):
        record_world(tmp_path, **TINY)


def test_step_needs_a_generated_world(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="generate"):
        step(tmp_path, 3)


@pytest.mark.parametrize("bad", [{"size": "huge"}, {"size": "0"}, {"months": 0}])
def test_bad_parameters_are_refused_before_anything_is_written(tmp_path: Path,
                                                               bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        record_world(tmp_path, **{**TINY, **bad})
    assert not (tmp_path / "state.pickle").exists()


def test_step_advances_the_clock_and_emits_only_that_days_changes(tmp_path: Path) -> None:
    world = record_world(tmp_path, **TINY)
    writers: list[RecordingWriter] = []
    summary = step(tmp_path, 10,
                   writer_factory=lambda p: writers.append(RecordingWriter(p)) or writers[-1])
    stepped = writers[0]
    assert stepped.meta["clock"] == "2025-07-10" and summary.days == 10
    assert load_state(tmp_path).clock == date(2025, 7, 10)
    first, end = day_start(date(2025, 7, 1)), day_start(date(2025, 7, 11))
    for kind, records in stepped.records.items():
        for record in records:
            changed = record.get("updated_at", record.get("created_at"))
            assert first <= changed < end, (kind, record["key"])
    assert {row["day"] for row in stepped.usage} == {
        (date(2025, 7, 1) + timedelta(days=n)).isoformat() for n in range(10)}
    assert summary.total_records == sum(len(r) for r in stepped.records.values())
    assert (summary.usage_days, summary.usage_rows) == (10, len(stepped.usage))
    assert "price" not in stepped.records and "csm" not in stepped.records
    assert summary.accounts_ever >= world.summary.accounts_ever


def test_state_is_bounded_to_current_state(small_world: World) -> None:
    """Only live things stay in the state: no closed tickets, departed contacts or past work."""
    state = load_state(small_world.path)
    assert state.clock is not None
    clock_end = day_start(state.clock + timedelta(days=1))
    assert all(day > state.clock.toordinal() for day in state.agenda)
    for account in state.accounts:
        assert all(entry[0] >= clock_end for entry in account.heap)
        assert all(t["status"] != "closed" for t in account.tickets.values())
        assert all(c["left_at"] is None for c in account.contacts)
        assert all(i["status"] == "open" for i in account.open_invoices.values())
    assert len(pickle.dumps(state)) < 20_000 * state.arrays.n
