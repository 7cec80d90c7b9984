"""Worlds from fixture directories of vendor-shaped JSON, and worlds exported as such.

A fixture directory holds `<vendor>/<kind>.json` files, each a JSON list of objects exactly as
the vendor's API returns them (or one whole list response: `{"results": [...]}` from HubSpot,
`{"data": [...]}` from Stripe, …). That is what a user gets by saving a real account's API
responses, so a real export can be replayed through the sandbox, and what tests write to pin
exact cases. `product/usage_days.json` is the exception: rows of `domain.UsageDay`, from which
the usage event files are rendered. An optional `meta.json` sets the world clock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from integrations.sandbox.store import WorldReader, WorldWriter
from integrations.sandbox.vendors import VENDOR_CLASSES

USAGE_FILE = Path("product") / "usage_days.json"
EVENTS_KIND = "events"


class FixtureError(ValueError):
    """A fixture file that cannot be loaded; the message names the file and the record."""


def load_fixture_dir(source: Path, world_path: Path) -> dict[str, int]:
    """Build a new world at `world_path` from `source`; returns records loaded per file."""
    if not source.is_dir():
        raise FixtureError(f"fixture directory {source} does not exist")
    if world_path.exists():
        raise FixtureError(f"{world_path} already exists; remove it or choose another path")
    world_path.parent.mkdir(parents=True, exist_ok=True)
    writer = WorldWriter(world_path)
    loaded: dict[str, int] = {}
    try:
        for path in sorted(source.glob("*/*.json")):
            relative = path.relative_to(source)
            records = _records_in(path, relative)
            if relative == USAGE_FILE:
                writer.put_usage(records)
            else:
                _load_vendor_file(writer, relative, records)
            loaded[str(relative)] = len(records)
        meta_path = source / "meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        for key, value in {"source": str(source), **meta}.items():
            writer.set_meta(key, value)
    finally:
        writer.close()
    return loaded


def _load_vendor_file(writer: WorldWriter, relative: Path, records: list[Any]) -> None:
    vendor_name, kind = relative.parts[0], relative.stem
    cls = VENDOR_CLASSES.get(vendor_name)
    if cls is None:
        raise FixtureError(f"{relative}: no sandbox vendor {vendor_name!r} "
                           f"(one of {', '.join(sorted(VENDOR_CLASSES))})")
    vendor = cls({})
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise FixtureError(f"{relative} record #{number}: expected a JSON object")
        try:
            vendor.load_fixture(kind, record, writer.sink)
        except (KeyError, ValueError, TypeError) as exc:
            raise FixtureError(f"{relative} record #{number}: {exc}") from None


def _records_in(path: Path, relative: Path) -> list[Any]:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise FixtureError(f"{relative}: not valid JSON ({exc})") from None
    if isinstance(content, list):
        return content
    cls = VENDOR_CLASSES.get(relative.parts[0])
    records = cls({}).records(content) if cls and isinstance(content, dict) else []
    if not records:
        raise FixtureError(f"{relative}: expected a JSON list of objects or a list response")
    return records


def export_world(world_path: Path, target: Path) -> dict[str, int]:
    """Write a world as a fixture directory that `load_fixture_dir` rebuilds identically."""
    reader = WorldReader(world_path)
    written: dict[str, int] = {}
    for vendor, kind in reader.object_kinds():
        written[f"{vendor}/{kind}.json"] = _write(target / vendor / f"{kind}.json",
                                                  list(reader.iter_objects(vendor, kind)))
    for vendor in reader.event_vendors():
        written[f"{vendor}/{EVENTS_KIND}.json"] = _write(
            target / vendor / f"{EVENTS_KIND}.json", list(reader.iter_events(vendor)))
    usage = [row for day, _, _ in reader.usage_days() for row in reader.usage_rows(day)]
    if usage:
        written[str(USAGE_FILE)] = _write(target / USAGE_FILE, usage)
    clock = reader.meta("clock")
    if clock is not None:
        (target / "meta.json").write_text(json.dumps({"clock": clock}))
    return written


def _write(path: Path, records: list[Any]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=1, sort_keys=True))
    return len(records)
