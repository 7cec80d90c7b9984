"""Expands stored daily usage summaries into the product's event files (NDJSON or Parquet).

The world keeps usage as one `UsageDay` row per account per day (so a large company fits on
disk); a partition file is rendered from those rows on request. Rendering is a pure function
of the world: the same day gives byte-identical files on every request and after a restart,
so a connector that is sent a file twice can recognise it (stable `event_id`s, stable
`sha256`). Nothing here draws from an RNG with state: each event's id and time of day come
from a hash of (day, account, event type, feature, ordinal).

Users: an account's roster is its product users in a fixed order — the CRM contacts present
that day (end users first, then champions, decision makers, procurement; by key), followed by
seat users the CRM does not know (`user_email` absent). `UsageDay.active_users` says users
0..n-1 of the roster were active; events are dealt to them round-robin, the deal rotated by
the day so the busiest user changes from day to day.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from integrations.sandbox.store import WorldReader
from integrations.sandbox.vendors.zendesk_wire import DAY_SECONDS, day_start, iso_utc

VENDOR = "product"
USERS = "users"
ROLE_ORDER = {"end_user": 0, "champion": 1, "decision_maker": 2, "procurement": 3}
FEATURE_USED, GATED_ATTEMPT, LIMIT_HIT = ("feature_used", "gated_feature_attempt",
                                          "plan_limit_hit")
RENDER_CACHE_BYTES = 256 * 1024 * 1024


class ProductUser(NamedTuple):
    """One roster entry: a product user id, and the email when the CRM knows the person."""

    user_id: str
    email: str | None


class Event(NamedTuple):
    """One usage event before serialisation; tuples sort in file order (second, then id).

    A NamedTuple rather than a dataclass: files hold hundreds of thousands of events and
    tuple construction and sorting are several times cheaper.
    """

    second: int
    event_id: str
    workspace_id: str
    user: ProductUser
    feature: str
    event_type: str
    plan: str


@dataclass(frozen=True)
class Partition:
    """A rendered day: its NDJSON bytes and what the listing says about them."""

    day: str
    events: int
    sha256: str
    ndjson: bytes


def contact_user_id(contact_key: int) -> str:
    """The product's id for a CRM contact who uses the product."""
    return "usr_" + hashlib.sha256(f"contact:{contact_key}".encode()).hexdigest()[:16]


def seat_user_id(workspace_id: str, seat: int) -> str:
    """The product's id for the `seat`-th user of a workspace the CRM does not know."""
    return "usr_" + hashlib.sha256(f"seat:{workspace_id}:{seat}".encode()).hexdigest()[:16]


def _present(entry: dict[str, Any], start: float) -> bool:
    """Whether a CRM contact was a product user on the day starting at `start`."""
    left = entry.get("left_at")
    return entry["joined_at"] < start + DAY_SECONDS and (left is None or left >= start)


def rosters(world: WorldReader, day: str) -> dict[int, list[ProductUser]]:
    """Per account key, the CRM contacts using the product on `day`, in roster order."""
    start = day_start(day)
    by_account: dict[int, list[dict[str, Any]]] = {}
    for entry in world.iter_objects(VENDOR, USERS):
        if _present(entry, start):
            by_account.setdefault(entry["account_key"], []).append(entry)
    return {
        account: [ProductUser(e["user_id"], e["email"]) for e in
                  sorted(entries, key=lambda e: (ROLE_ORDER.get(e["role"], 9), e["key"]))]
        for account, entries in by_account.items()
    }


def _active_users(row: dict[str, Any], known: list[ProductUser]) -> list[ProductUser]:
    count = max(1, int(row["active_users"]))
    seats = [ProductUser(seat_user_id(row["workspace_id"], seat), None)
             for seat in range(max(0, count - len(known)))]
    return (known + seats)[:count]


def _hashed(seed: str) -> tuple[str, int]:
    """(event id, second of the day) for an event, from a hash of its identity."""
    digest = hashlib.blake2b(seed.encode("utf-8"), digest_size=16).digest()
    return "evt_" + digest[:10].hex(), int.from_bytes(digest[10:14], "big") % DAY_SECONDS


def _row_counts(row: dict[str, Any]) -> Iterable[tuple[str, str, int]]:
    """(event type, feature, count) of a row. Limit hits are attributed to the feature used
    most that day (ties by name): the one whose use ran into the plan's limit."""
    yield from ((FEATURE_USED, f, n) for f, n in row["feature_events"].items())
    yield from ((GATED_ATTEMPT, f, n) for f, n in row["gated_attempts"].items())
    if row["limit_hits"] and row["feature_events"]:
        busiest = max(row["feature_events"].items(), key=lambda item: (item[1], item[0]))[0]
        yield LIMIT_HIT, busiest, int(row["limit_hits"])


def expand_row(row: dict[str, Any], known: list[ProductUser]) -> list[Event]:
    """Every event of one account-day, deterministically."""
    users = _active_users(row, known)
    rotation = date.fromisoformat(row["day"]).toordinal() % len(users)
    events = []
    for event_type, feature, count in _row_counts(row):
        prefix = f"{row['day']}|{row['account_key']}|{event_type}|{feature}|"
        for ordinal in range(count):
            event_id, second = _hashed(prefix + str(ordinal))
            events.append(Event(second, event_id, row["workspace_id"],
                                users[(ordinal + rotation) % len(users)], feature,
                                event_type, row["plan"]))
    return events


def day_events(world: WorldReader, day: str) -> list[Event]:
    """All events of a day, in file order (time of day, then id)."""
    known = rosters(world, day)
    events = [event for row in world.usage_rows(day)
              for event in expand_row(row, known.get(row["account_key"], []))]
    events.sort()
    return events


@cache
def _clock_times() -> tuple[str, ...]:
    """`HH:MM:SS` for every second of a day, built once (formatting per event is costly)."""
    return tuple(f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
                 for second in range(DAY_SECONDS))


def to_ndjson(day: str, events: list[Event]) -> bytes:
    """One JSON object per line, keys in a fixed order.

    The parts an event shares with others (who, what, which plan) are JSON-encoded once per
    file and reused, which keeps rendering a large day to a few microseconds an event.
    """
    who: dict[tuple[str, ProductUser], str] = {}
    what: dict[tuple[str, str, str], tuple[str, str]] = {}
    clock = _clock_times()
    lines = []
    for e in events:
        person = who.get((e.workspace_id, e.user))
        if person is None:
            email = (f',"user_email":{json.dumps(e.user.email)}' if e.user.email else "")
            person = who[(e.workspace_id, e.user)] = (
                f'","workspace_id":{json.dumps(e.workspace_id)},'
                f'"user_id":{json.dumps(e.user.user_id)}{email}')
        action = what.get((e.feature, e.event_type, e.plan))
        if action is None:
            action = what[(e.feature, e.event_type, e.plan)] = (
                f',"feature":{json.dumps(e.feature)},"event_type":{json.dumps(e.event_type)},'
                f'"occurred_at":"{day}T', f'Z","plan":{json.dumps(e.plan)}}}\n')
        lines.append(f'{{"event_id":"{e.event_id}{person}{action[0]}{clock[e.second]}'
                     f'{action[1]}')
    return "".join(lines).encode("utf-8")


def to_parquet(day: str, events: list[Event]) -> bytes:
    """The same events as a Parquet file (occurred_at as a UTC timestamp)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    start = int(day_start(day))
    table = pa.table({
        "event_id": pa.array([e.event_id for e in events], pa.string()),
        "workspace_id": pa.array([e.workspace_id for e in events], pa.string()),
        "user_id": pa.array([e.user.user_id for e in events], pa.string()),
        "user_email": pa.array([e.user.email for e in events], pa.string()),
        "feature": pa.array([e.feature for e in events], pa.string()),
        "event_type": pa.array([e.event_type for e in events], pa.string()),
        "occurred_at": pa.array([start + e.second for e in events], pa.timestamp("s", "UTC")),
        "plan": pa.array([e.plan for e in events], pa.string()),
    })
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


class PartitionCache:
    """Rendered partitions, most recent first out, bounded by total bytes; thread-safe.

    Listing partitions needs each file's sha256, so it renders them; a connector then
    downloads the files it just listed, which are served from here instead of re-rendered.
    A partition is keyed by its day and a fingerprint of its rows, so a day the simulation
    rewrites is rendered afresh.
    """

    def __init__(self, max_bytes: int = RENDER_CACHE_BYTES) -> None:
        self._max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, tuple[int, int]], Partition] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, world: WorldReader, day: str, fingerprint: tuple[int, int]) -> Partition:
        key = (day, fingerprint)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        ndjson = to_ndjson(day, day_events(world, day))
        partition = Partition(day, ndjson.count(b"\n"), hashlib.sha256(ndjson).hexdigest(),
                              ndjson)
        with self._lock:
            if key not in self._items:
                self._items[key] = partition
                self._bytes += len(ndjson)
            while self._bytes > self._max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped.ndjson)
        return partition


def partition_days(world: WorldReader, *, since: str | None, after: str | None, limit: int,
                   ) -> list[tuple[str, tuple[int, int]]]:
    """Days with usage in order, each with its fingerprint (accounts, active users).

    A direct range query on `usage_daily`'s (day, account) key rather than `usage_days()`,
    which aggregates every day of the history for each page.
    """
    clauses, params = ["1 = 1"], []
    if since:
        clauses.append("day >= ?")
        params.append(since)
    if after:
        clauses.append("day > ?")
        params.append(after)
    rows = world.conn.execute(
        f"select day, count(*), sum(active_users) from usage_daily where {' and '.join(clauses)}"
        " group by day order by day limit ?",
        (*params, limit),
    ).fetchall()
    return [(r[0], (int(r[1]), int(r[2]))) for r in rows]


def day_fingerprint(world: WorldReader, day: str) -> tuple[int, int] | None:
    """The (accounts, active users) fingerprint of one day, None when it has no usage."""
    found = partition_days(world, since=day, after=None, limit=1)
    return found[0][1] if found and found[0][0] == day else None


def partition_entry(partition: Partition, base_url: str) -> dict[str, Any]:
    """A partition as the listing describes it: `path` from the host root, `url` absolute."""
    path = f"{urlsplit(base_url).path}/v1/usage/partitions/{partition.day}/events.ndjson"
    return {
        "date": partition.day,
        "path": path,
        "url": urljoin(base_url, path),
        "events": partition.events,
        "sha256": partition.sha256,
        "updated_at": iso_utc(day_start(partition.day) + DAY_SECONDS),
    }
