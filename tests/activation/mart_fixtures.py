"""Small mart tables with the exact DESIGN.md §6 columns, for activation tests.

Activation reads only the public marts and a few shared intermediate models; these helpers
create those relations in a real DuckDB (or PostgreSQL) database with hand-chosen rows, so
each rule's firing is a known answer. `world_accounts` takes the accounts (company ids, owner
ids and emails) from a sandbox world, so what is planned can be delivered to that sandbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from csp.activation.db import Db
from csp.warehouse import Warehouse
from integrations.sandbox.store import WorldReader

AS_OF = date(2026, 10, 31)
COMPONENTS = ("usage_frequency", "feature_depth", "data_growth", "support_load", "payment",
              "nps", "engagement")

TABLES: dict[str, Sequence[tuple[str, str]]] = {
    "marts.dim_accounts": (
        ("account_id", "varchar"), ("crm_account_id", "varchar"),
        ("stripe_customer_id", "varchar"), ("zendesk_organization_id", "varchar"),
        ("account_name", "varchar"), ("domain", "varchar"), ("industry", "varchar"),
        ("segment", "varchar"), ("csm_id", "varchar"), ("csm_email", "varchar"),
        ("csm_slack_id", "varchar"), ("plan", "varchar"), ("seats", "integer"),
        ("mrr", "numeric(28,6)"), ("arr", "numeric(28,6)"), ("customer_since", "date"),
        ("renewal_date", "date"), ("lifecycle_stage", "varchar")),
    "marts.fct_account_health_daily": (
        ("account_id", "varchar"), ("date", "date"), ("segment", "varchar"),
        ("health_score", "numeric(28,6)"), ("health_band", "varchar"),
        *((f"{name}_score", "numeric(28,6)") for name in COMPONENTS),
        ("missing_components", "varchar"), ("score_change_7d", "numeric(28,6)"),
        ("score_change_30d", "numeric(28,6)"), ("main_driver", "varchar")),
    "marts.fct_expansion_signals": (
        ("account_id", "varchar"), ("date", "date"), ("signal_type", "varchar"),
        ("strength", "numeric(28,6)"), ("evidence", "varchar"),
        ("estimated_value", "numeric(28,6)")),
    "marts.fct_lifecycle_touchpoints": (
        ("account_id", "varchar"), ("touchpoint_type", "varchar"), ("due_on", "date"),
        ("status", "varchar")),
    "intermediate.int_billing__payment_issues": (
        ("account_id", "varchar"), ("invoice_id", "varchar"), ("due_on", "date"),
        ("paid_on", "date"), ("failed_attempts", "integer"), ("days_overdue", "integer")),
    "intermediate.int_accounts__activation": (
        ("account_id", "varchar"), ("segment", "varchar"), ("started_on", "date"),
        ("activated_on", "date"), ("days_to_activation", "integer"),
        ("deadline_days", "integer"), ("activation_status", "varchar"),
        ("is_overdue", "boolean")),
    "intermediate.int_contacts": (
        ("contact_id", "varchar"), ("account_id", "varchar"), ("email", "varchar"),
        ("role", "varchar"), ("created_at", "timestamp"), ("last_engaged_at", "timestamp"),
        ("removed_at", "timestamp")),
}


@dataclass
class Marts:
    """Rows per relation; `write` creates every relation and inserts them."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in TABLES})

    def add(self, table: str, **values: Any) -> None:
        unknown = set(values) - {column for column, _ in TABLES[table]}
        if unknown:
            raise KeyError(f"{table} has no column(s) {sorted(unknown)}")
        self.rows[table].append(values)

    def write(self, db: Db, tables: Iterable[str] | None = None) -> None:
        """(Re)create the relations and insert the rows."""
        for table in tables or TABLES:
            schema = table.split(".")[0]
            columns = TABLES[table]
            db.execute(f"create schema if not exists {schema}")
            db.execute(f"drop table if exists {table}")
            db.execute(f"create table {table} ("
                       f"{', '.join(f'{name} {kind}' for name, kind in columns)})")
            self.append(db, table)

    def append(self, db: Db, table: str) -> None:
        """Insert this object's rows of `table` into the existing relation."""
        names = [name for name, _ in TABLES[table]]
        db.insert_rows(f"insert into {table} ({', '.join(names)}) values",
                       [[row.get(name) for name in names] for row in self.rows.get(table, [])])
        db.commit()


def health_row(account_id: str, day: date, score: float, *, band: str | None = None,
               change_7d: float | None = None, driver: str | None = None,
               components: Mapping[str, float] | None = None) -> dict[str, Any]:
    """One fct_account_health_daily row; every component = score unless given."""
    band = band or ("healthy" if score >= 75 else "at_risk" if score >= 60 else "critical")
    values = {f"{name}_score": (components or {}).get(name, score) for name in COMPONENTS}
    return {"account_id": account_id, "date": day, "segment": "smb", "health_score": score,
            "health_band": band, **values, "missing_components": None,
            "score_change_7d": change_7d, "score_change_30d": None, "main_driver": driver}


def account_row(account_id: str, *, name: str, csm_id: str | None, csm_email: str | None,
                mrr: float = 1000.0, segment: str = "smb",
                renewal_date: date | None = None) -> dict[str, Any]:
    return {"account_id": account_id, "crm_account_id": account_id, "account_name": name,
            "segment": segment, "csm_id": csm_id, "csm_email": csm_email, "mrr": mrr,
            "arr": mrr * 12, "renewal_date": renewal_date, "lifecycle_stage": "customer",
            "customer_since": date(2025, 1, 1), "seats": 10, "plan": "growth"}


@dataclass(frozen=True)
class WorldAccount:
    """A company of the sandbox world with its owner (id and email)."""

    company_id: str
    name: str
    owner_id: str
    owner_email: str


def world_accounts(world: Path) -> list[WorldAccount]:
    """The world's HubSpot companies that have an owner, sorted by id."""
    reader = WorldReader(world)
    owners = {o["id"]: o["email"] for o in reader.iter_objects("hubspot", "owners")}
    companies = []
    for company in reader.iter_objects("hubspot", "companies"):
        owner = company["properties"].get("hubspot_owner_id")
        if owner in owners and not company.get("archived"):
            companies.append(WorldAccount(company["id"], company["properties"]["name"],
                                          owner, owners[owner]))
    return sorted(companies, key=lambda c: c.company_id)


def scenario_marts(accounts: Sequence[WorldAccount], as_of: date = AS_OF) -> Marts:
    """One account per rule (and a churned and a healthy one), owned as in the world.

    Accounts 0..7 each trip one rule; 8 is churned (would trip a rule, stays quiet); 9 is
    healthy (only its health is written back). Account 10 trips a rule and its owner's email
    is unknown to Slack, so its alert goes to the segment channel.
    """
    marts = Marts()
    yesterday, week_ago = as_of - timedelta(days=1), as_of - timedelta(days=7)
    for index, company in enumerate(accounts[:11]):
        email = company.owner_email if index != 10 else "nobody@unknown.example"
        renewal = as_of + timedelta(days=45) if index == 2 else as_of + timedelta(days=300)
        marts.add("marts.dim_accounts", **account_row(
            company.company_id, name=company.name, csm_id=company.owner_id, csm_email=email,
            mrr=0.0 if index == 8 else 1000.0 + index, renewal_date=renewal))
        today_score, yesterday_score, week_score = {
            0: (55.0, 62.0, 63.0), 1: (64.0, 70.0, 82.0), 2: (68.0, 68.0, 68.0),
            8: (40.0, 70.0, 70.0), 10: (50.0, 65.0, 66.0)}.get(index, (85.0, 85.0, 85.0))
        moved = {"payment": today_score - 30} if index in (0, 1, 10) else None
        for day, score in ((as_of, today_score), (yesterday, yesterday_score),
                           (week_ago, week_score)):
            marts.add("marts.fct_account_health_daily", **health_row(
                company.company_id, day, score, change_7d=today_score - week_score
                if day == as_of else None, driver="payment" if moved and day == as_of else None,
                components=moved if day == as_of else None))
    ids = [c.company_id for c in accounts[:11]]
    marts.add("intermediate.int_billing__payment_issues", account_id=ids[3], invoice_id="in_3",
              due_on=as_of - timedelta(days=20), paid_on=None, failed_attempts=2,
              days_overdue=20)
    marts.add("intermediate.int_accounts__activation", account_id=ids[4], segment="smb",
              started_on=as_of - timedelta(days=100), activated_on=None,
              days_to_activation=None, deadline_days=90, activation_status="overdue",
              is_overdue=True)
    marts.add("marts.fct_lifecycle_touchpoints", account_id=ids[5],
              touchpoint_type="day_90_health_check", due_on=as_of, status="due")
    marts.add("intermediate.int_contacts", contact_id="c6", account_id=ids[6],
              email="champion@example.com", role="champion", created_at=date(2025, 1, 1),
              last_engaged_at=as_of - timedelta(days=120), removed_at=None)
    marts.add("marts.fct_expansion_signals", account_id=ids[7], date=as_of,
              signal_type="seat_utilisation", strength=0.95,
              evidence="19 of 20 seats active", estimated_value=2400)
    return marts


def scenario_warehouse_at(path: Path, accounts: Sequence[WorldAccount]) -> Warehouse:
    """A DuckDB warehouse file at `path` holding the scenario marts."""
    conn = duckdb.connect(str(path))
    try:
        scenario_marts(accounts).write(Db(conn, "duckdb"))
    finally:
        conn.close()
    return Warehouse("duckdb", path)
