"""The thresholds the suites are judged against, bound at run time.

Suites hold `{"$PARAMETER": name}` placeholders; a run passes the values as GX
`expectation_parameters`, so a threshold is changed per run (`csp validate --param
volume_min_ratio=0.3`) without touching a suite. Defaults live here, except the freshness
windows: each source's window is the `error_after` of its dbt source definition
(`dbt_project/models/staging/<source>/_<source>__sources.yml`), so dbt's `source freshness`
and this gate can never disagree.

Two values shape SQL rather than bound a result and are rendered into the query text when the
suites are built: `money_tolerance` (rounding allowed when MRR figures are reconciled) and
the volume window (`volume_history_weeks`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_SOURCES = PROJECT_ROOT / "dbt_project" / "models" / "staging"
HOURS_PER = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}

DEFAULTS: dict[str, float] = {
    "score_min": 0,                       # health score and every component: 0..100
    "score_max": 100,
    "mrr_min": 0,                         # MRR never negative
    "nrr_min": 0.5,                       # a month keeping < 50 % or > 3x its MRR is a bug
    "nrr_max": 3.0,
    "grr_min": 0.5,
    "grr_max": 1.0,                       # by definition (DESIGN.md §5)
    "rate_min": 0,                        # churn/expansion/retention shares
    "rate_max": 1,
    "max_unmatched_billing_share": 0.05,  # share of Stripe customers matched to no account
    "volume_min_ratio": 0.5,              # latest window vs. the same window in past weeks
    "volume_max_ratio": 3.0,
    "money_tolerance": 0.01,
    "volume_history_weeks": 4,
}


class ParameterError(ValueError):
    """An unknown parameter or a value that is not a number; one line."""


def freshness_key(source: str) -> str:
    return f"freshness_max_hours__{source}"


def freshness_windows(sources: Iterable[str], sources_dir: Path = DBT_SOURCES,
                      ) -> dict[str, float]:
    """Each source's `error_after` window in hours, from its dbt sources YAML."""
    windows = {}
    for source in sources:
        path = sources_dir / source / f"_{source}__sources.yml"
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        config = document["sources"][0].get("config", {})
        error_after = config.get("freshness", {}).get("error_after")
        if not error_after:
            raise ParameterError(f"{path.name}: source {source} declares no freshness error_after")
        windows[freshness_key(source)] = error_after["count"] * HOURS_PER[error_after["period"]]
    return windows


def resolve(sources: Iterable[str], overrides: Mapping[str, float] | None = None,
            ) -> dict[str, float]:
    """Defaults, then the configured freshness windows, then the run's overrides."""
    values = {**DEFAULTS, **freshness_windows(sources)}
    for name, value in (overrides or {}).items():
        if name not in values:
            raise ParameterError(f"unknown validation parameter {name!r}; known: "
                                 f"{', '.join(sorted(values))}")
        values[name] = float(value)
    return values


def parse_assignments(items: Iterable[str]) -> dict[str, float]:
    """`name=value` strings (the CLI's --param) as numbers."""
    parsed = {}
    for item in items:
        name, sep, raw = item.partition("=")
        try:
            parsed[name.strip()] = float(raw)
        except ValueError:
            raise ParameterError(f"--param {item!r}: expected NAME=NUMBER") from None
        if not sep:
            raise ParameterError(f"--param {item!r}: expected NAME=NUMBER")
    return parsed
