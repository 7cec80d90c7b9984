"""The alert and task rules as configuration: `config/alert_rules.yml`, loaded and checked.

Rules live in YAML, not code, so a CS lead's change of a threshold or a cool-down is a
one-line review and `csp plan` shows its effect before anything is sent. A mistake in the file
(an unknown rule, a missing field, a wrong type) is one clear error naming the rule and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

DEFAULT_RULES_PATH = Path(__file__).resolve().parents[2] / "config" / "alert_rules.yml"
RULE_NAMES = ("health_crossed_below", "sharp_drop", "renewal_at_risk", "payment_problem",
              "activation_overdue", "lifecycle_touchpoint_due", "key_contact_gone",
              "expansion_signal")
AUDIENCES = ("csm", "cs_lead", "sales", "onboarding")
CHANNELS = ("slack", "none")
TASK_PRIORITIES = ("LOW", "MEDIUM", "HIGH")
TRANSPORTS = ("bot_token", "webhook")


class RulesError(ValueError):
    """The rules file is wrong; the message names the rule and the field."""


@dataclass(frozen=True)
class TaskTemplate:
    """The CRM task a rule creates: subject template, due offset, priority."""

    subject: str
    due_in_days: int
    priority: str


@dataclass(frozen=True)
class Rule:
    """One alert/task rule."""

    name: str
    description: str
    audience: tuple[str, ...]
    channel: str
    cooldown_days: int
    creates_crm_task: bool
    task: TaskTemplate | None
    params: Mapping[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> Any:
        if name not in self.params:
            raise RulesError(f"rule {self.name}: params.{name} is required")
        return self.params[name]


@dataclass(frozen=True)
class Routing:
    """Where each audience is reached in Slack."""

    segment_channels: Mapping[str, str]
    cs_lead: str
    sales: str
    onboarding: str            # a channel, or "csm" for the account owner
    digest_after: int
    transport: str = "bot_token"     # or "webhook": every message to the webhook's channel


@dataclass(frozen=True)
class Writeback:
    """The CRM fields activation may write, and the CRM record link template."""

    health_properties: Mapping[str, str]
    cs_sourced_lead_property: str
    crm_record_url: str


@dataclass(frozen=True)
class RuleBook:
    """Every enabled rule, the routing and the write-back configuration."""

    rules: Mapping[str, Rule]
    routing: Routing
    writeback: Writeback


def load_rules(path: Path = DEFAULT_RULES_PATH) -> RuleBook:
    """Read and check the rules file; raises RulesError with a one-line reason."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{path}: cannot read the rules file ({type(exc).__name__})") from None
    return parse_rules(raw, source=str(path))


def parse_rules(raw: Any, *, source: str = "rules") -> RuleBook:
    """The RuleBook of an already-parsed YAML document."""
    if not isinstance(raw, dict):
        raise RulesError(f"{source}: expected a mapping with rules, routing and writeback")
    rules_raw = _mapping(raw.get("rules"), f"{source}: rules")
    unknown = sorted(set(rules_raw) - set(RULE_NAMES))
    if unknown:
        raise RulesError(f"{source}: unknown rule(s) {', '.join(unknown)}; known: "
                         f"{', '.join(RULE_NAMES)}")
    rules = {name: _rule(name, _mapping(body, f"rule {name}"))
             for name, body in rules_raw.items()}
    routing_raw = _mapping(raw.get("routing"), f"{source}: routing")
    writeback_raw = _mapping(raw.get("writeback"), f"{source}: writeback")
    try:
        routing = Routing(
            segment_channels=dict(_mapping(routing_raw["segment_channels"],
                                           "routing.segment_channels")),
            cs_lead=str(routing_raw["cs_lead"]), sales=str(routing_raw["sales"]),
            onboarding=str(routing_raw["onboarding"]),
            digest_after=int(routing_raw["digest_after"]),
            transport=str(routing_raw.get("transport", "bot_token")))
        writeback = Writeback(
            health_properties=dict(_mapping(writeback_raw["health_properties"],
                                            "writeback.health_properties")),
            cs_sourced_lead_property=str(writeback_raw["cs_sourced_lead_property"]),
            crm_record_url=str(writeback_raw["crm_record_url"]))
    except KeyError as exc:
        raise RulesError(f"{source}: routing/writeback lacks {exc.args[0]!r}") from None
    if routing.transport not in TRANSPORTS:
        raise RulesError(f"{source}: routing.transport must be one of {', '.join(TRANSPORTS)}")
    return RuleBook(rules, routing, writeback)


def _rule(name: str, body: Mapping[str, Any]) -> Rule:
    where = f"rule {name}"
    audience = tuple(body.get("audience") or ())
    if not audience or not set(audience) <= set(AUDIENCES):
        raise RulesError(f"{where}: audience must list some of {', '.join(AUDIENCES)}")
    channel = body.get("channel")
    if channel not in CHANNELS:
        raise RulesError(f"{where}: channel must be one of {', '.join(CHANNELS)}")
    cooldown = body.get("cooldown_days")
    if not isinstance(cooldown, int) or cooldown < 0:
        raise RulesError(f"{where}: cooldown_days must be a whole number >= 0")
    creates_task = body.get("creates_crm_task")
    if not isinstance(creates_task, bool):
        raise RulesError(f"{where}: creates_crm_task must be true or false")
    task = _task(where, body.get("task")) if creates_task else None
    return Rule(name=name, description=str(body.get("description") or name),
                audience=audience, channel=channel, cooldown_days=cooldown,
                creates_crm_task=creates_task, task=task,
                params=dict(_mapping(body.get("params") or {}, f"{where}: params")))


def _task(where: str, raw: Any) -> TaskTemplate:
    body = _mapping(raw, f"{where}: task (required when creates_crm_task is true)")
    priority = body.get("priority", "MEDIUM")
    if priority not in TASK_PRIORITIES:
        raise RulesError(f"{where}: task.priority must be one of {', '.join(TASK_PRIORITIES)}")
    due = body.get("due_in_days")
    if not isinstance(due, int) or due < 0:
        raise RulesError(f"{where}: task.due_in_days must be a whole number >= 0")
    if not isinstance(body.get("subject"), str) or not body["subject"]:
        raise RulesError(f"{where}: task.subject is required")
    return TaskTemplate(body["subject"], due, priority)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise RulesError(f"{where}: expected a mapping")
    return value
