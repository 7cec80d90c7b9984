"""The ingestion sources by name: which package builds the dlt source for each vendor.

Flows and the CLI choose sources by the names users configure (`CSP_SOURCES`); this is the one
place that maps a name to its package (imported only when that source runs) and gives each run
its HTTP session. The session's rate limiter is shared by every run of the same vendor in this
process, so back-to-back or concurrent runs together stay under the vendor's limit.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any

from dlt.extract import DltSource

from csp.settings import VendorConfig
from integrations.http import VendorSession, create_session
from integrations.rate_window import RateLimit
from integrations.ratelimit import ClientRateLimiter

FACTORIES = {
    "hubspot": "integrations.hubspot:hubspot_source",
    "salesforce": "integrations.salesforce:salesforce_source",
    "stripe": "integrations.stripe:stripe_source",
    "zendesk": "integrations.zendesk:zendesk_source",
    "product": "integrations.usage:product_source",
}

_limiters: dict[tuple[str, RateLimit], ClientRateLimiter] = {}
_limiters_lock = threading.Lock()


@dataclass(frozen=True)
class SourceRun:
    """A dlt source ready to load, and the session whose counters describe its HTTP traffic."""

    source: DltSource
    session: VendorSession


def shared_limiter(config: VendorConfig) -> ClientRateLimiter:
    """This process's limiter for the vendor at its configured rate."""
    key = (config.name, config.rate_limit)
    with _limiters_lock:
        if key not in _limiters:
            _limiters[key] = ClientRateLimiter(config.rate_limit)
        return _limiters[key]


def build_source(config: VendorConfig, **tuning: Any) -> SourceRun:
    """The dlt source for one configured vendor, on a fresh session (sources add their auth).

    `tuning` goes to the vendor's source factory as it is (page sizes, a start date).
    """
    module_name, _, function = FACTORIES[config.name].partition(":")
    factory = getattr(importlib.import_module(module_name), function)
    session = create_session(config.name, limiter=shared_limiter(config))
    return SourceRun(factory(config, session=session, **tuning), session)
