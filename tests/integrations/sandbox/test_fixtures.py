"""Worlds from fixture directories: a generated world round-trips, a real export replays."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from csp.settings import load_settings
from integrations.sandbox.fixtures import FixtureError, export_world, load_fixture_dir
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.store import WorldReader
from tests.vendor_specs import VENDOR_SPECS

SPECS = VENDOR_SPECS

# One first-page read per vendor, as a connector would make it: (vendor, method, path, body).
PROBES: tuple[tuple[str, str, str, Any], ...] = (
    ("hubspot", "GET", "/crm/v3/objects/companies?limit=100", None),
    ("stripe", "GET", "/v1/subscriptions?status=all&limit=100", None),
    ("zendesk", "GET", "/api/v2/incremental/tickets/cursor.json?start_time=0", None),
    ("product", "GET", "/v1/usage/partitions", None),
    ("slack", "POST", "/api/auth.test", {}),
)


def auth_headers(vendor: str, credentials: Any) -> dict[str, str]:
    """Each vendor's own way of presenting a credential."""
    if vendor == "zendesk":
        pair = f"{credentials['email'].reveal()}/token:{credentials['api_token'].reveal()}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    return {"Authorization": f"Bearer {next(iter(credentials.values())).reveal()}"}


def store_contents(world: Path) -> dict[str, list[object]]:
    reader = WorldReader(world)
    contents: dict[str, list[object]] = {
        f"{vendor}/{kind}": list(reader.iter_objects(vendor, kind))
        for vendor, kind in reader.object_kinds()
    }
    for vendor in reader.event_vendors():
        contents[f"{vendor}/events"] = list(reader.iter_events(vendor))
    contents["usage"] = [reader.usage_rows(day) for day, _, _ in reader.usage_days()]
    return contents


def served_pages(world: Path) -> dict[str, object]:
    settings = load_settings({})
    pages = {}
    with SandboxServer(world) as server:
        for vendor, method, path, payload in PROBES:
            response = requests.request(
                method, server.url(vendor) + path, json=payload, timeout=30,
                headers=auth_headers(vendor, settings.vendors[vendor].credentials))
            assert response.status_code == 200, (vendor, response.text[:300])
            # Links in a page name the server that served it; each server has its own port.
            pages[vendor] = json.loads(response.text.replace(server.base_url, "http://sandbox"))
    return pages


def test_exported_world_reloads_identically(small_world: Path, tmp_path: Path) -> None:
    written = export_world(small_world, tmp_path / "export")
    assert written["stripe/events.json"] > 0
    replay = tmp_path / "replay" / "world.sqlite"
    loaded = load_fixture_dir(tmp_path / "export", replay)
    assert loaded == written
    assert store_contents(replay) == store_contents(small_world)
    assert WorldReader(replay).meta("clock") == WorldReader(small_world).meta("clock")
    assert served_pages(replay) == served_pages(small_world)


def test_published_vendor_samples_replay_through_the_api(tmp_path: Path) -> None:
    """Responses as HubSpot and Zendesk publish them load and are served back unchanged."""
    samples = json.loads((SPECS / "hubspot" / "crm_v3_sample_responses.json").read_text())
    fixtures = tmp_path / "fixtures"
    (fixtures / "hubspot").mkdir(parents=True)
    (fixtures / "zendesk").mkdir()
    (fixtures / "hubspot" / "companies.json").write_text(
        json.dumps(samples["mock_companies_data"]))
    (fixtures / "zendesk" / "tickets.json").write_text(
        (SPECS / "zendesk" / "zendesk_tickets.json").read_text())
    world = tmp_path / "world.sqlite"
    assert load_fixture_dir(fixtures, world) == {"hubspot/companies.json": 2,
                                                 "zendesk/tickets.json": 1}
    settings = load_settings({})
    with SandboxServer(world) as server:
        companies = requests.get(
            server.url("hubspot") + "/crm/v3/objects/companies?limit=10", timeout=10,
            headers=auth_headers("hubspot", settings.vendors["hubspot"].credentials)).json()
        tickets = requests.get(
            server.url("zendesk") + "/api/v2/incremental/tickets/cursor.json?start_time=0",
            timeout=10,
            headers=auth_headers("zendesk", settings.vendors["zendesk"].credentials)).json()
    assert sorted(c["properties"]["domain"] for c in companies["results"]) == [
        "fda.gov", "hubspot.com"]
    assert [t["subject"] for t in tickets["tickets"]] == ["Help, my printer is on fire!"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"hubspot/companies.json": "{not json"}, "hubspot/companies.json: not valid JSON"),
        ({"acme/things.json": "[]"}, "acme/things.json: no sandbox vendor 'acme'"),
        ({"stripe/customers.json": '["cus_1"]'},
         "stripe/customers.json record #1: expected a JSON object"),
        ({"hubspot/companies.json": '{"total": 0}'},
         "hubspot/companies.json: expected a JSON list of objects or a list response"),
    ],
)
def test_bad_fixture_files_are_named_with_the_reason(tmp_path: Path, files: dict[str, str],
                                                     message: str) -> None:
    for name, content in files.items():
        (tmp_path / "fx" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "fx" / name).write_text(content)
    with pytest.raises(FixtureError) as error:
        load_fixture_dir(tmp_path / "fx", tmp_path / "w.sqlite")
    assert message in str(error.value)
