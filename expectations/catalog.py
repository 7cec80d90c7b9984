"""Every domain suite, built for one run's sources and parameters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from expectations import account_health, activation_inputs, expansion, raw_sources, retention
from expectations.contract import DOMAINS
from expectations.spec import DomainSuite


def domains(sources: Iterable[str], params: Mapping[str, float],
            only: Iterable[str] | None = None) -> list[DomainSuite]:
    """The suites named in `only` (default: all), in `DOMAINS` order."""
    chosen = set(only or DOMAINS)
    unknown = chosen - set(DOMAINS)
    if unknown:
        raise ValueError(f"unknown suite {', '.join(sorted(unknown))}; known: "
                         f"{', '.join(DOMAINS)}")
    built = {
        "raw_sources": lambda: raw_sources.suite(sources, params),
        "account_health": lambda: account_health.suite(params),
        "retention": lambda: retention.suite(params),
        "expansion": lambda: expansion.suite(params),
        "activation_inputs": lambda: activation_inputs.suite(params),
    }
    return [built[name]() for name in DOMAINS if name in chosen]
