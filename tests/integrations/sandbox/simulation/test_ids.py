"""Vendor-style ids: real formats, unique per key, stable per seed, different across seeds."""

from __future__ import annotations

import re

import pytest

from integrations.sandbox.simulation.ids import IdFactory, salesforce_suffix


def test_salesforce_case_safe_suffix_matches_salesforce_examples() -> None:
    assert salesforce_suffix("0019000000B98de") == "AAB"
    assert salesforce_suffix("a0D30000001n7Pi") == "EAI"


def test_salesforce_ids_are_18_characters_with_their_object_prefix() -> None:
    ids = IdFactory(7)
    for prefix in ("001", "003", "005", "006"):
        value = ids.salesforce(prefix, 42)
        assert len(value) == 18 and value.startswith(prefix)
        assert value[15:] == salesforce_suffix(value[:15])


def test_short_ids_are_unique_for_many_keys() -> None:
    ids = IdFactory(7)
    keys = range(1, 50_001)
    for make in (lambda k: ids.hubspot("company", k), lambda k: ids.zendesk("user", k),
                 ids.slack_user, ids.workspace, lambda k: ids.salesforce("003", k)):
        assert len({make(k) for k in keys}) == len(keys)


def test_formats_look_like_the_vendors() -> None:
    ids = IdFactory(7)
    assert re.fullmatch(r"cus_[0-9A-Za-z]{14}", ids.stripe("cus", 1, 14))
    assert re.fullmatch(r"sub_[0-9A-Za-z]{24}", ids.stripe("sub", 1))
    assert re.fullmatch(r"\d{11}", ids.hubspot("company", 1))
    assert re.fullmatch(r"\d{8}", ids.hubspot("owner", 1))
    assert re.fullmatch(r"U0[0-9A-Z]{9}", ids.slack_user(1))
    assert re.fullmatch(r"ws_[0-9a-z]{12}", ids.workspace(1))
    assert re.fullmatch(r"[0-9A-F]{8}", ids.invoice_prefix(1))
    assert 360_000_000_000 <= ids.zendesk("organization", 1) < 370_000_000_000


def test_ids_are_stable_per_seed_and_differ_between_seeds() -> None:
    assert IdFactory(7).stripe("cus", 5, 14) == IdFactory(7).stripe("cus", 5, 14)
    assert IdFactory(7).stripe("cus", 5, 14) != IdFactory(8).stripe("cus", 5, 14)
    assert IdFactory(7).hubspot("deal", 5) != IdFactory(8).hubspot("deal", 5)


def test_keys_outside_the_id_space_are_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        IdFactory(7).bijective("x", 10, 10)
