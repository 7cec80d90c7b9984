"""The causal model, measured the way a CS team would on a generated world.

Signals are taken from what the vendors would serve (usage rows, charges, contacts, survey
answers) at observation days T, and the outcome is a subscription ending in the 90 days after
T. Causes must show up as several-fold differences in churn, yet stay noisy (no group churns
for sure). The world is 1,200 accounts over two years, generated once per session.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pytest

from integrations.sandbox.simulation.clock import ordinal_of
from integrations.sandbox.simulation.dynamics import Signals, churn_logit
from tests.integrations.sandbox.simulation.conftest import World

HORIZON = 90
FIRST_OBSERVATION = 150


@dataclass
class Observed:
    """Per-account timelines rebuilt from a world's records (day indexes from the start)."""

    start: date
    days: int
    active: dict[int, np.ndarray]
    churned_on: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    failed_on: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    champions: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    nps: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    seats: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))

    def day(self, ts: float) -> int:
        return ordinal_of(ts) - self.start.toordinal()


def observe_world(world: World) -> Observed:
    writer, summary = world.writer, world.summary
    days = (summary.clock - summary.start).days + 1
    active: dict[int, np.ndarray] = {}
    for row in writer.usage:
        series = active.setdefault(row["account_key"], np.full(days, -1, dtype=np.int64))
        series[date.fromisoformat(row["day"]).toordinal() - summary.start.toordinal()] = \
            row["active_users"]
    seen = Observed(summary.start, days, active)
    for sub in writer.records["subscription"]:
        if sub["status"] == "canceled" and sub["ended_at"] == sub["updated_at"]:
            seen.churned_on[sub["account_key"]].append(seen.day(sub["ended_at"]))
    for charge in writer.records["charge"]:
        if charge["status"] == "failed":
            seen.failed_on[charge["account_key"]].append(seen.day(charge["created_at"]))
    for contact in writer.latest("contact").values():
        if contact["role"] == "champion":
            left = seen.day(contact["left_at"]) if contact["left_at"] else days + 1
            seen.champions[contact["account_key"]].append((seen.day(contact["created_at"]),
                                                           left))
    for answer in writer.records["survey_response"]:
        if answer["survey"] == "nps":
            seen.nps[answer["account_key"]].append((seen.day(answer["submitted_at"]),
                                                    answer["score"]))
    for account in writer.records["account"]:
        seen.seats[account["key"]].append((seen.day(account["updated_at"]), account["seats"]))
    return seen


@pytest.fixture(scope="module")
def observed(causal_world: World) -> Observed:
    return observe_world(causal_world)


@pytest.fixture(scope="module")
def churn_by_group(observed: Observed) -> dict[str, tuple[int, int]]:
    """(observations, churned within 90 days) per signal group, pooled over monthly Ts."""
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t in range(FIRST_OBSERVATION, observed.days - HORIZON, 30):
        for key, series in observed.active.items():
            window = series[t - 119:t + 1]
            if (window < 0).any():
                continue
            churned = any(t < d <= t + HORIZON for d in observed.churned_on.get(key, ()))
            for group in _groups(observed, key, t, window):
                groups[group][0] += 1
                groups[group][1] += churned
    return {name: (n, c) for name, (n, c) in groups.items()}


def _groups(observed: Observed, key: int, t: int, window: np.ndarray) -> list[str]:
    ratio = (window[60:].sum() + 1) / (window[:60].sum() + 1)
    found = ["usage_fell" if ratio < 0.85 else "usage_grew" if ratio > 1.15 else "usage_flat"]
    failed = any(t - 90 < d <= t for d in observed.failed_on.get(key, ()))
    found.append("payment_failed" if failed else "payment_ok")
    spells = observed.champions.get(key, [])
    had = any(joined <= t for joined, _ in spells)
    has = any(joined <= t < left for joined, left in spells)
    if had:
        found.append("champion_present" if has else "champion_gone")
    answers = [score for day, score in observed.nps.get(key, ()) if day <= t]
    if answers:
        found.append("nps_low" if answers[-1] <= 6 else "nps_high" if answers[-1] >= 9
                     else "nps_mid")
    return found


def rate(groups: dict[str, tuple[int, int]], name: str) -> float:
    n, churned = groups[name]
    assert n >= 150, f"too few observations in {name}: {n}"
    return churned / n


@pytest.mark.parametrize(("risky", "safe", "at_least"), [
    ("usage_fell", "usage_grew", 2.5),
    ("payment_failed", "payment_ok", 2.0),
    ("champion_gone", "champion_present", 2.0),
    ("nps_low", "nps_high", 2.0),
])
def test_signals_predict_churn(churn_by_group: dict[str, tuple[int, int]], risky: str,
                               safe: str, at_least: float) -> None:
    risky_rate, safe_rate = rate(churn_by_group, risky), rate(churn_by_group, safe)
    assert risky_rate >= at_least * safe_rate, (risky_rate, safe_rate)
    assert safe_rate > 0 and risky_rate < 0.6, "churn must stay probabilistic"


def _seats_on(observed: Observed, key: int, day: int) -> int:
    history = observed.seats[key]
    position = bisect.bisect_right([d for d, _ in history], day) - 1
    return history[position][1] if position >= 0 else 0


def _utilisation(observed: Observed, key: int, day: int) -> float | None:
    series = observed.active.get(key)
    seats = _seats_on(observed, key, day)
    if series is None or day < 30 or seats == 0 or (series[day - 29:day + 1] < 0).any():
        return None
    return float(series[day - 29:day + 1].max()) / seats


def test_seat_expansions_follow_high_seat_utilisation(causal_world: World,
                                                      observed: Observed) -> None:
    expansions = [d for d in causal_world.writer.latest("deal").values()
                  if d["deal_type"] == "expansion" and "seats" in d["name"]]
    before = [u for d in expansions
              if (u := _utilisation(observed, d["account_key"], observed.day(d["created_at"])))
              is not None]
    assert len(before) >= 50
    rng = np.random.default_rng(0)
    keys = list(observed.active)
    baseline = [u for _ in range(3000) if (u := _utilisation(
        observed, keys[rng.integers(len(keys))], int(rng.integers(30, observed.days)))) is not None]
    high = lambda values: sum(u >= 0.9 for u in values) / len(values)  # noqa: E731
    assert high(before) >= 0.95
    assert high(baseline) < 0.5


def test_contractions_follow_low_seat_utilisation(causal_world: World,
                                                  observed: Observed) -> None:
    utilisations, previous = [], {}
    for sub in causal_world.writer.records["subscription"]:
        seats = sub["items"][0]["quantity"]
        key = sub["id"]
        if key in previous and seats < previous[key] and sub["status"] != "canceled":
            day = observed.day(sub["updated_at"]) - 1
            if (u := _utilisation(observed, sub["account_key"], day)) is not None:
                utilisations.append(u)
        previous[key] = seats
    assert len(utilisations) >= 30
    assert float(np.median(utilisations)) < 0.7


def test_truth_records_the_hidden_risk_and_it_ranks_churners_higher(
        causal_world: World, observed: Observed) -> None:
    risk: dict[tuple[int, int], float] = {}
    names = set()
    for key, name, day, value in causal_world.writer.truth:
        names.add(name)
        if name == "churn_risk_annual":
            risk[(key, date.fromisoformat(day).toordinal() - observed.start.toordinal())] = value
    assert {"health", "churn_risk_annual", "renewal_churn_probability"} <= names
    churners, stayers = [], []
    for (key, day), value in risk.items():
        if day + HORIZON < observed.days:
            left = any(day < d <= day + HORIZON for d in observed.churned_on.get(key, ()))
            (churners if left else stayers).append(value)
    assert len(churners) >= 100
    assert np.mean(churners) >= 1.5 * np.mean(stayers)


def _signals(**overrides: float) -> Signals:
    values = {"usage_ratio": 1.0, "seat_utilisation": 0.8, "peak_active": 8, "friction": 0.0,
              "payment_trouble": 0.0, "champion_missing": False, "nps": 8.0,
              "days_since_engaged": 20}
    values.update(overrides)
    return Signals(idx=np.array([0]), **{k: np.array([v]) for k, v in values.items()})


@pytest.mark.parametrize("worse", [
    {"usage_ratio": 0.7}, {"friction": 3.0}, {"payment_trouble": 1.0},
    {"champion_missing": True}, {"nps": 3.0}, {"days_since_engaged": 200},
    {"seat_utilisation": 0.3},
])
def test_each_bad_signal_raises_the_churn_odds(worse: dict[str, float]) -> None:
    segment = np.array([2])
    baseline = float(churn_logit(_signals(), segment)[0])
    assert float(churn_logit(_signals(**worse), segment)[0]) > baseline + 0.3
    assert float(churn_logit(_signals(usage_ratio=1.3), segment)[0]) < baseline
    assert math.isfinite(float(churn_logit(_signals(nps=float("nan")), segment)[0]))
