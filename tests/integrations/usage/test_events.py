"""Usage event parsing and the Arrow conversion, on canned NDJSON (no server, no warehouse)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from integrations.contracts import SchemaDriftError, Unparsed
from integrations.usage.events import EventsToArrow, event_pages, stamped
from integrations.usage.settings import USAGE_EVENTS_CONTRACT


def event(n: int, **fields: Any) -> dict[str, Any]:
    return {"event_id": f"evt_{n}", "workspace_id": "ws_1", "user_id": f"usr_{n}",
            "feature": "api", "event_type": "feature_used",
            "occurred_at": "2026-10-31T00:00:04Z", "plan": "growth", **fields}


def ndjson(*records: Any) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def test_pages_of_a_file_tag_events_and_keep_bad_lines() -> None:
    body = ndjson(event(1), event(2)) + b'{"event_id": "evt_cut\n' + ndjson(event(3))
    pages = list(event_pages(body, "2026-10-31", page_size=2))
    assert [len(page) for page in pages] == [2, 2]
    assert [r["partition_date"] for r in (*pages[0], pages[1][1])] == ["2026-10-31"] * 3
    assert isinstance(pages[1][0], Unparsed) and pages[1][0].raw == '{"event_id": "evt_cut'


def test_a_clean_file_is_read_as_tables_equal_to_what_the_record_path_builds() -> None:
    records = [event(1), event(2, user_email="a@b.io"), event(3)]
    pages = list(event_pages(ndjson(*records), "2026-10-31", page_size=2))
    assert [(type(page), len(page)) for page in pages] == [(pa.Table, 2), (pa.Table, 1)]
    fast = pa.concat_tables(stamped([(name, page.column(name)) for name in page.column_names],
                                    "load-1") for page in pages)
    slow, rejected = EventsToArrow(USAGE_EVENTS_CONTRACT).to_table(
        [{**record, "partition_date": "2026-10-31"} for record in records], "load-1")
    assert rejected == [] and fast.equals(slow)
    assert fast.schema == slow.schema


@pytest.mark.parametrize("odd", [
    {"user_id": 7}, {"user_id": None}, {"plan": ["growth"]}, {"region": "eu"},
    {"occurred_at": "2026-10-31"}, {"partition_date": "2026-10-30"},
])
def test_a_file_with_anything_the_contract_checks_falls_back_to_records(
        odd: dict[str, Any]) -> None:
    pages = list(event_pages(ndjson(event(1), event(2, **odd)), "2026-10-31", page_size=10))
    assert [type(page) for page in pages] == [list]
    assert pages[0][1]["partition_date"] == "2026-10-31"


def test_a_page_becomes_a_typed_arrow_table_stamped_with_its_load() -> None:
    # The first record has no user_email: every column of the page must still be kept.
    records = [event(1), event(2, user_email="a@b.io", extra={"k": 1}), event(3)]
    for record in records:
        record["partition_date"] = "2026-10-31"
    table, rejected = EventsToArrow(USAGE_EVENTS_CONTRACT).to_table(records, "load-1")
    assert rejected == []
    assert table.column_names == ["event_id", "workspace_id", "user_id", "user_email",
                                  "feature", "event_type", "occurred_at", "plan",
                                  "partition_date", "extra", "_dlt_load_id"]
    assert table.column("user_email").to_pylist() == [None, "a@b.io", None]
    assert table.schema.field("occurred_at").type == pa.timestamp("us", tz="UTC")
    assert table.column("occurred_at")[0].as_py() == datetime(2026, 10, 31, 0, 0, 4,
                                                              tzinfo=UTC)
    assert not table.schema.field("event_id").nullable
    assert set(table.column("_dlt_load_id").to_pylist()) == {"load-1"}


def test_an_event_without_a_time_is_quarantined_not_nulled() -> None:
    table, rejected = EventsToArrow(USAGE_EVENTS_CONTRACT).to_table(
        [event(1), event(2, occurred_at="yesterday"), event(3, occurred_at="2026-10-31")],
        "load-1")
    assert table.column("event_id").to_pylist() == ["evt_1"]
    assert [json.loads(row["payload"])["event_id"] for row in rejected] == ["evt_2", "evt_3"]
    assert {row["reason"] for row in rejected} == {
        "field 'occurred_at' is not an ISO-8601 time with a zone"}
    assert {row["table_name"] for row in rejected} == {"usage_events"}


def test_a_field_of_two_types_in_one_page_fails_naming_it() -> None:
    with pytest.raises(SchemaDriftError) as caught:
        EventsToArrow(USAGE_EVENTS_CONTRACT).to_table([event(1), event(2, plan=3)], "load-1")
    assert str(caught.value) == ("product.usage_events: field 'plan' holds integer and string "
                                 "values in one page (expected string)")


def test_quarantine_rows_and_empty_pages_pass_through() -> None:
    step = EventsToArrow(USAGE_EVENTS_CONTRACT)
    quarantined = [{"quarantine_id": "q1"}]
    assert list(step(quarantined, meta=object())) == [quarantined]
    assert list(step([], meta=None)) == [[]]
