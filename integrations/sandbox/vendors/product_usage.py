"""Expands stored daily usage summaries into the product's event files (NDJSON or Parquet).

The world keeps usage as one `UsageDay` row per account per day (so a large company fits on
disk); a partition file is rendered from those rows on request. Rendering is a pure function
of the world: the same day gives byte-identical files on every request and after a restart,
so a connector that is sent a file twice can recognise it (stable `event_id`s, stable
`sha256`). Nothing here draws from an RNG with state: each event's id and time of day come
from (day, account, event type, feature, ordinal), hashed and mixed (see `DayEvents`).

Users: an account's roster is its product users in a fixed order — the CRM contacts present
that day (end users first, then champions, decision makers, procurement; by key), followed by
seat users the CRM does not know (`user_email` absent). `UsageDay.active_users` says users
0..n-1 of the roster were active; the row's events are dealt to them round-robin (one deal
across all its features, so a row with as many events as active users shows every one of
them), the deal rotated by the day so the busiest user changes from day to day.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from itertools import repeat
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from integrations.sandbox.store import WorldReader
from integrations.sandbox.vendors.zendesk_wire import DAY_SECONDS, day_start, iso_utc

VENDOR = "product"
USERS = "users"
ROLE_ORDER = {"end_user": 0, "champion": 1, "decision_maker": 2, "procurement": 3}
FEATURE_USED, GATED_ATTEMPT, LIMIT_HIT = ("feature_used", "gated_feature_attempt",
                                          "plan_limit_hit")
RENDER_CACHE_BYTES = 256 * 1024 * 1024
_GOLDEN, _MIX1, _MIX2 = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9),
                         np.uint64(0x94D049BB133111EB))
_SALT = np.uint64(0x5EED_0F_E7E17)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


class ProductUser(NamedTuple):
    """One roster entry: a product user id, and the email when the CRM knows the person."""

    user_id: str
    email: str | None


class Event(NamedTuple):
    """One usage event as a tuple (files are rendered from columns; see `DayEvents`)."""

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


@lru_cache(maxsize=1 << 17)
def seat_user_id(workspace_id: str, seat: int) -> str:
    """The product's id for the `seat`-th user of a workspace the CRM does not know."""
    return "usr_" + hashlib.sha256(f"seat:{workspace_id}:{seat}".encode()).hexdigest()[:16]


def _active_users(row: dict[str, Any], known: list[ProductUser]) -> list[ProductUser]:
    count = max(1, int(row["active_users"]))
    return (known + list(_seat_users(row["workspace_id"], max(0, count - len(known)))))[:count]


@lru_cache(maxsize=1 << 14)
def _seat_users(workspace_id: str, count: int) -> tuple[ProductUser, ...]:
    """The first `count` seat users of a workspace (asked for day after day)."""
    return tuple(ProductUser(seat_user_id(workspace_id, seat), None) for seat in range(count))


def _row_counts(row: dict[str, Any]) -> Iterable[tuple[str, str, int]]:
    """(event type, feature, count) of a row, features by name (the row's key order is not
    part of its content: a row reloaded from a fixture must deal its events identically).
    Limit hits are attributed to the feature used most that day (ties by name): the one
    whose use ran into the plan's limit."""
    yield from ((FEATURE_USED, f, n) for f, n in sorted(row["feature_events"].items()))
    yield from ((GATED_ATTEMPT, f, n) for f, n in sorted(row["gated_attempts"].items()))
    if row["limit_hits"] and row["feature_events"]:
        busiest = max(row["feature_events"].items(), key=lambda item: (item[1], item[0]))[0]
        yield LIMIT_HIT, busiest, int(row["limit_hits"])


def _group_key(day: str, account_key: int, event_type: str, feature: str) -> int:
    """64 bits identifying one (day, account, event type, feature): its events' seeds."""
    seed = f"{day}|{account_key}|{event_type}|{feature}".encode()
    return int.from_bytes(hashlib.blake2b(seed, digest_size=8).digest(), "big")


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over uint64s (wrapping arithmetic): a fixed pseudo-random
    permutation, so every event gets its own stable bits without hashing it in Python."""
    values = values + _GOLDEN
    values = (values ^ (values >> np.uint64(30))) * _MIX1
    values = (values ^ (values >> np.uint64(27))) * _MIX2
    return values ^ (values >> np.uint64(31))


def _hex(values: np.ndarray, digits: int) -> np.ndarray:
    """The low `digits` nibbles of each uint64 as ASCII hex, one row of bytes per value."""
    shifts = np.arange(4 * (digits - 1), -1, -4, dtype=np.uint64)
    return _HEX[((values[:, None] >> shifts) & np.uint64(15)).astype(np.intp)]


def _event_ids(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """`evt_` + 24 hex digits (96 bits) per event, as fixed-width bytes."""
    chars = np.empty((len(high), 4 + 24), dtype=np.uint8)
    chars[:, :4] = np.frombuffer(b"evt_", dtype=np.uint8)
    chars[:, 4:20] = _hex(high, 16)
    chars[:, 20:] = _hex(low >> np.uint64(32), 8)
    return chars.view(f"S{4 + 24}").ravel()


@dataclass(frozen=True)
class DayEvents:
    """One day's events in file order (time of day, then id), held as columns.

    Each event's id and second of the day derive from its (day, account, event type,
    feature, ordinal): a 64-bit key per (day, account, type, feature) hashed once, plus the
    ordinal, mixed by `_mix` — the same file on every request and after a restart. Who and
    what are indexes into the day's `people` and `actions`, which are JSON-encoded once per
    file: rendering costs well under a microsecond an event.
    """

    day: str
    seconds: np.ndarray
    ids: np.ndarray
    person: np.ndarray
    action: np.ndarray
    people: list[tuple[str, ProductUser]]
    actions: list[tuple[str, str, str]]

    def __len__(self) -> int:
        return len(self.seconds)

    def events(self) -> list[Event]:
        """The events as tuples (for inspection and tests)."""
        return [Event(int(second), event_id.decode(), *self.people[person][:2],
                      *self.actions[action])
                for second, event_id, person, action in zip(
                    self.seconds, self.ids, self.person.tolist(), self.action.tolist(),
                    strict=True)]

    def ndjson(self) -> bytes:
        """One JSON object per line, keys in a fixed order."""
        if not len(self):
            return b""
        who = pa.array([_who_json(workspace, user) for workspace, user in self.people],
                       pa.large_string())
        what = pa.array([f',"feature":{json.dumps(feature)},"event_type":'
                         f'{json.dumps(event_type)},"occurred_at":"{self.day}T'
                         for feature, event_type, _ in self.actions], pa.large_string())
        plan = pa.array([f'Z","plan":{json.dumps(plan)}}}\n' for _, _, plan in self.actions],
                        pa.large_string())
        action = pa.array(self.action)
        lines = pc.binary_join_element_wise(
            pa.scalar('{"event_id":"', pa.large_string()),
            pa.array(self.ids, pa.large_binary()).cast(pa.large_string()),
            who.take(pa.array(self.person)), what.take(action),
            _clock_times().take(pa.array(self.seconds)), plan.take(action),
            pa.scalar("", pa.large_string()))
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[
            lines.offset:lines.offset + len(lines) + 1]
        return lines.buffers()[2].slice(int(offsets[0]),
                                        int(offsets[-1] - offsets[0])).to_pybytes()

    def parquet(self) -> bytes:
        """The same events as a Parquet file (occurred_at as a UTC timestamp)."""
        person, action = pa.array(self.person), pa.array(self.action)

        def column(values: list[Any], index: pa.Array) -> pa.Array:
            return pa.array(values, pa.string()).take(index)

        table = pa.table({
            "event_id": pa.array(self.ids, pa.binary()).cast(pa.string()),
            "workspace_id": column([w for w, _ in self.people], person),
            "user_id": column([u.user_id for _, u in self.people], person),
            "user_email": column([u.email for _, u in self.people], person),
            "feature": column([a[0] for a in self.actions], action),
            "event_type": column([a[1] for a in self.actions], action),
            "occurred_at": pa.array(int(day_start(self.day)) + self.seconds,
                                    pa.timestamp("s", "UTC")),
            "plan": column([a[2] for a in self.actions], action),
        })
        sink = io.BytesIO()
        pq.write_table(table, sink)
        return sink.getvalue()


@lru_cache(maxsize=1 << 17)
def _who_json(workspace_id: str, user: ProductUser) -> str:
    """An event's workspace and user fields (from the closing quote of `event_id` on): the
    same few thousand people appear day after day, so each is encoded once."""
    email = f',"user_email":{json.dumps(user.email)}' if user.email else ""
    return (f'","workspace_id":{json.dumps(workspace_id)},"user_id":{json.dumps(user.user_id)}'
            f'{email}')


def render_rows(day: str, rows: Iterable[dict[str, Any]],
                roster: Callable[[int], list[ProductUser]]) -> DayEvents:
    """Every event of `rows` (one day's `UsageDay`s), deterministically.

    A row's events are dealt to its active users round-robin, one deal across all its
    features and event types, starting at an offset that moves with the day.
    """
    people: list[tuple[str, ProductUser]] = []
    actions: dict[tuple[str, str, str], int] = {}
    keys, counts, first_person, roster_size, dealt_before, action_of = ([] for _ in range(6))
    rotation = date.fromisoformat(day).toordinal()
    for row in rows:
        users = _active_users(row, roster(row["account_key"]))
        first, dealt = len(people), rotation % len(users)
        people.extend(zip(repeat(row["workspace_id"]), users))
        for event_type, feature, count in _row_counts(row):
            if count <= 0:
                continue
            keys.append(_group_key(day, row["account_key"], event_type, feature))
            counts.append(count)
            first_person.append(first)
            roster_size.append(len(users))
            dealt_before.append(dealt)
            action_of.append(actions.setdefault((feature, event_type, row["plan"]),
                                                len(actions)))
            dealt += count
    sizes = np.array(counts, dtype=np.int64)
    group = np.repeat(np.arange(len(sizes)), sizes)
    ordinal = np.arange(int(sizes.sum())) - (np.cumsum(sizes) - sizes)[group]
    high = _mix(np.array(keys, dtype=np.uint64)[group] + ordinal.astype(np.uint64))
    low = _mix(high ^ _SALT)
    seconds = (low % np.uint64(DAY_SECONDS)).astype(np.int64)
    person = (np.array(first_person, dtype=np.int64)[group]
              + (np.array(dealt_before, dtype=np.int64)[group] + ordinal)
              % np.array(roster_size, dtype=np.int64)[group])
    order = np.lexsort((high, seconds))
    return DayEvents(day, seconds[order], _event_ids(high[order], low[order]), person[order],
                     np.array(action_of, dtype=np.int64)[group][order], people, list(actions))


def expand_row(row: dict[str, Any], known: list[ProductUser]) -> list[Event]:
    """Every event of one account-day, deterministically, in file order."""
    return render_rows(row["day"], [row], lambda _: known).events()


class UserDirectory:
    """Every product user of a world, per account in roster order, with their spells.

    Built from the stored users once and reused for every day rendered (`PartitionCache`
    keeps one per state of the users), instead of decoding every user for every day.
    """

    def __init__(self, entries: Iterable[dict[str, Any]]) -> None:
        by_account: dict[int, list[dict[str, Any]]] = {}
        for entry in entries:
            by_account.setdefault(entry["account_key"], []).append(entry)
        self._spells = {
            account: [(e["joined_at"], e.get("left_at"), ProductUser(e["user_id"], e["email"]))
                      for e in sorted(found, key=lambda e: (ROLE_ORDER.get(e["role"], 9),
                                                            e["key"]))]
            for account, found in by_account.items()}

    @classmethod
    def load(cls, world: WorldReader) -> UserDirectory:
        return cls(world.iter_objects(VENDOR, USERS))

    def roster(self, account_key: int, day: str) -> list[ProductUser]:
        """The account's CRM contacts using the product on `day`, in roster order."""
        start = day_start(day)
        return [user for joined, left, user in self._spells.get(account_key, ())
                if joined < start + DAY_SECONDS and (left is None or left >= start)]


def users_fingerprint(world: WorldReader) -> tuple[int, float]:
    """(users, sum of their update times): changes when a user is added or leaves (a user's
    update time is when they left, once they have), read from the index alone."""
    row = world.conn.execute(
        "select count(*), coalesce(sum(updated), 0) from objects "
        "where vendor = ? and kind = ?", (VENDOR, USERS)).fetchone()
    return int(row[0]), float(row[1])


def render_day(world: WorldReader, day: str, users: UserDirectory | None = None) -> DayEvents:
    """All events of a day; `users` defaults to the world's users as stored now."""
    directory = users or UserDirectory.load(world)
    return render_rows(day, world.usage_rows(day),
                       lambda account: directory.roster(account, day))


@cache
def _clock_times() -> pa.Array:
    """`HH:MM:SS` for every second of a day, built once."""
    return pa.array([f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
                     for second in range(DAY_SECONDS)], pa.large_string())


class PartitionCache:
    """Rendered partitions, most recent first out, bounded by total bytes; thread-safe.

    Listing partitions needs each file's sha256, so it renders them; a connector then
    downloads the files it just listed, which are served from here instead of re-rendered.
    A partition is keyed by its day and a fingerprint of its rows, so a day the simulation
    rewrites is rendered afresh. The user directory is kept for as long as the users are
    unchanged.
    """

    def __init__(self, max_bytes: int = RENDER_CACHE_BYTES) -> None:
        self._max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, tuple[int, int]], Partition] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._users: tuple[tuple[str, tuple[int, float]], UserDirectory] | None = None

    def render(self, world: WorldReader, day: str) -> DayEvents:
        """The day's events, rendered with the cached user directory."""
        key = (str(world.path), users_fingerprint(world))
        with self._lock:
            cached = self._users
        if cached is None or cached[0] != key:
            cached = (key, UserDirectory.load(world))
            with self._lock:
                self._users = cached
        return render_day(world, day, cached[1])

    def get(self, world: WorldReader, day: str, fingerprint: tuple[int, int]) -> Partition:
        key = (day, fingerprint)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        ndjson = self.render(world, day).ndjson()
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
