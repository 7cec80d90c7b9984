"""Run-time parameters: defaults, freshness windows from dbt's sources, checked overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from csp.cli import main
from expectations.parameters import (
    ParameterError,
    freshness_key,
    freshness_windows,
    parse_assignments,
    resolve,
)


def write_sources(root: Path, source: str, error_after: str) -> None:
    folder = root / source
    folder.mkdir(parents=True)
    (folder / f"_{source}__sources.yml").write_text(
        f"version: 2\nsources:\n  - name: {source}\n    config:\n      freshness:\n"
        f"        error_after: {error_after}\n    tables: []\n", encoding="utf-8")


def test_freshness_windows_come_from_each_sources_error_after(tmp_path: Path) -> None:
    write_sources(tmp_path, "stripe", "{count: 2, period: day}")
    write_sources(tmp_path, "product", "{count: 90, period: minute}")
    assert freshness_windows(["stripe", "product"], tmp_path) == {
        freshness_key("stripe"): 48.0, freshness_key("product"): 1.5}


def test_a_source_without_a_window_is_a_one_line_error(tmp_path: Path) -> None:
    folder = tmp_path / "zendesk"
    folder.mkdir()
    (folder / "_zendesk__sources.yml").write_text(
        "version: 2\nsources:\n  - name: zendesk\n    tables: []\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="declares no freshness error_after"):
        freshness_windows(["zendesk"], tmp_path)


def test_every_configured_source_has_a_window_in_the_project() -> None:
    values = resolve(["hubspot", "salesforce", "stripe", "zendesk", "product"])
    assert all(values[freshness_key(source)] > 0
               for source in ("hubspot", "salesforce", "stripe", "zendesk", "product"))


def test_overrides_replace_defaults_and_unknown_names_are_refused() -> None:
    assert resolve(["stripe"], {"volume_min_ratio": 0.25})["volume_min_ratio"] == 0.25
    with pytest.raises(ParameterError, match="unknown validation parameter 'volume_min'"):
        resolve(["stripe"], {"volume_min": 0.25})
    assert parse_assignments(["nrr_max=2.5"]) == {"nrr_max": 2.5}
    with pytest.raises(ParameterError, match="expected NAME=NUMBER"):
        parse_assignments(["nrr_max"])


def test_the_cli_rejects_a_bad_parameter_in_one_line(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    assert main(["validate", "--param", "nrr_max=lots"]) == 2
    assert capsys.readouterr().err == ("csp: error: --param 'nrr_max=lots': expected "
                                       "NAME=NUMBER\n")
