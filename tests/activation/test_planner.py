"""The planner on hand-built marts: each rule fires for its account (known answers), keys are
stable, suppression (churned, cool-down, snooze) and digests behave as configured."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from csp.activation.db import Db
from csp.activation.findings import find_all
from csp.activation.outbox import counts
from csp.activation.plan import plan
from csp.activation.rules import RuleBook, RulesError, parse_rules
from csp.activation.snapshot import read_snapshot
from csp.activation.suppression import snooze
from tests.activation.mart_fixtures import AS_OF, WorldAccount, health_row


def test_each_rule_fires_for_its_account(db: Db, rules: RuleBook,
                                         accounts: list[WorldAccount]) -> None:
    ids = [a.company_id for a in accounts[:11]]
    findings = find_all(read_snapshot(db), dict(rules.rules))
    fired = {(f.rule, ids.index(f.account_id)) for f in findings}
    assert fired == {
        ("health_crossed_below", 0), ("sharp_drop", 1), ("renewal_at_risk", 2),
        ("payment_problem", 3), ("activation_overdue", 4), ("lifecycle_touchpoint_due", 5),
        ("key_contact_gone", 6), ("expansion_signal", 7),
        ("health_crossed_below", 8), ("sharp_drop", 8),          # churned: fires, held back
        ("health_crossed_below", 10), ("sharp_drop", 10),
    }
    crossed = next(f for f in findings if f.rule == "health_crossed_below" and
                   f.account_id == ids[0])
    assert crossed.reasons[0] == "main driver: payment"
    assert "payment 63 → 25 (-38)" in crossed.reasons


def test_plan_writes_the_outbox_and_a_second_plan_adds_nothing(db: Db, rules: RuleBook) -> None:
    first = plan(db, rules)
    kinds = first.summary()["new_by_kind"]
    assert kinds == {"slack": 11, "crm_task": 5, "crm_field": 10}
    assert sorted(reason for _, reason in first.suppressed) == ["account churned"] * 4
    second = plan(db, rules)
    assert second.new == [] and second.suppressed == []
    assert counts(db) == {"planned": 26, "suppressed": 4}
    assert any(line.startswith("+ slack     renewal_at_risk") and line.endswith("#cs-leads")
               for line in first.lines())


def test_unknown_slack_user_routes_to_the_segment_channel(db: Db, rules: RuleBook,
                                                          accounts: list[WorldAccount]) -> None:
    report = plan(db, rules)
    routed = {a.payload["recipient"].get("fallback") for a in report.new
              if a.account_id == accounts[10].company_id and a.kind == "slack"}
    assert routed == {"#cs-smb"}


def test_cooldown_holds_the_same_rule_the_next_day(db: Db, rules: RuleBook,
                                                   accounts: list[WorldAccount]) -> None:
    plan(db, rules)
    account = accounts[1].company_id          # sharp drop, still dropping tomorrow
    tomorrow = AS_OF + timedelta(days=1)
    db.execute_many("insert into marts.fct_account_health_daily (account_id, date, "
                    "health_score, health_band, score_change_7d) values (%s, %s, %s, %s, %s)",
                    [(a.company_id, tomorrow, 85.0, "healthy", 0.0) for a in accounts[:11]
                     if a.company_id != account] + [(account, tomorrow, 60.0, "at_risk", -22.0)])
    report = plan(db, rules, tomorrow)
    held = {(a.rule, a.kind): reason for a, reason in report.suppressed
            if a.account_id == account}
    assert held[("sharp_drop", "slack")].startswith("cool-down: csp:slack:sharp_drop:")
    assert not [a for a in report.new if a.kind == "slack"]


def test_snooze_holds_an_account(db: Db, rules: RuleBook, accounts: list[WorldAccount]) -> None:
    snooze(db, accounts[2].company_id, "renewal_at_risk", AS_OF, "renewal call booked")
    report = plan(db, rules)
    held = [reason for a, reason in report.suppressed if a.account_id == accounts[2].company_id]
    assert held == [f"snoozed until {AS_OF.isoformat()}"] * 3     # 2 messages and the task


def test_digest_folds_one_persons_alerts(db: Db, rules: RuleBook) -> None:
    book = replace(rules, routing=replace(rules.routing, digest_after=1))
    report = plan(db, book)
    digests = [a for a in report.new if a.rule == "digest"]
    folded_people = {a.payload["recipient"]["email"] for a in digests}
    assert digests and len(report.digested) > len(digests)
    assert all(a.kind == "slack" for a in digests)
    per_person_left = [a for a in report.new if a.kind == "slack" and a.rule != "digest"
                       and a.payload["recipient"].get("email") in folded_people]
    assert per_person_left == []
    assert counts(db)["digested"] == len(report.digested)


def test_hysteresis_needs_yesterday_clearly_above(db: Db, rules: RuleBook,
                                                  accounts: list[WorldAccount]) -> None:
    rule = replace(rules.rules["health_crossed_below"],
                   params={"threshold": 60, "hysteresis": 5})
    findings = find_all(read_snapshot(db), {"health_crossed_below": rule})
    # account 0 was 62 yesterday (< 65): no longer a crossing; 10 was 65, 8 was 70.
    assert {f.account_id for f in findings} == {accounts[8].company_id,
                                                accounts[10].company_id}


def test_missing_component_history_gives_no_mover_but_still_fires(db: Db,
                                                                  rules: RuleBook) -> None:
    db.execute("delete from marts.fct_account_health_daily")
    db.execute_many("insert into marts.fct_account_health_daily (account_id, date, health_score, "
                    "health_band) values (%s, %s, %s, %s)",
                    [(r["account_id"], r["date"], r["health_score"], r["health_band"]) for r in (
                        health_row("x", AS_OF, 50.0), health_row("x", AS_OF - timedelta(1), 70.0))])
    findings = find_all(read_snapshot(db), {"health_crossed_below":
                                            rules.rules["health_crossed_below"]})
    assert [(f.account_id, f.reasons) for f in findings] == [("x", ())]


@pytest.mark.parametrize("document, message", [
    ({"rules": {"nope": {}}, "routing": {}, "writeback": {}}, "unknown rule(s) nope"),
    ({"rules": {"sharp_drop": {"audience": ["ceo"]}}, "routing": {}, "writeback": {}},
     "rule sharp_drop: audience must list some of"),
    ({"rules": {"sharp_drop": {"audience": ["csm"], "channel": "slack", "cooldown_days": 1,
                               "creates_crm_task": True}}, "routing": {}, "writeback": {}},
     "rule sharp_drop: task (required when creates_crm_task is true)"),
])
def test_a_bad_rules_file_names_the_problem(document: dict[str, object], message: str) -> None:
    with pytest.raises(RulesError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_rules(document)
