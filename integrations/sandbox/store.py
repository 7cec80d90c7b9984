"""The world store: one SQLite file holding everything the sandbox serves.

SQLite rather than DuckDB because the server reads it from many threads while `sandbox step`
may append to it from another process (WAL mode allows that), and the access pattern is
keyed paging, not analytics. Vendor objects are stored already rendered in the vendor's
shape, so serving a page is an indexed range scan plus JSON decoding, and a fixture
directory of real vendor exports loads without any translation.

Tables:
- `objects`: the current version of every vendor object, keyed (vendor, kind, id).
- `events`: append-only vendor event streams (Stripe's Events API), ordered by `seq`.
- `usage_daily`: one row per account per day; event files are expanded from it on request.
- `pushed`: what connectors wrote to the sandbox (Slack messages, CRM tasks, updates).
- `truth`: the simulation's hidden state (true churn risk). No vendor route reads it.
- `meta`: generator parameters and the simulation clock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists objects (
    vendor text not null,
    kind text not null,
    id text not null,
    created real not null,
    updated real not null,
    deleted integer not null default 0,
    body text not null,
    primary key (vendor, kind, id)
);
create index if not exists objects_by_updated on objects (vendor, kind, updated, id);
create index if not exists objects_by_created on objects (vendor, kind, created, id);
create table if not exists events (
    seq integer primary key autoincrement,
    vendor text not null,
    id text not null unique,
    type text not null,
    created real not null,
    body text not null
);
create index if not exists events_by_created on events (vendor, created, seq);
create table if not exists usage_daily (
    day text not null,
    account_key integer not null,
    workspace_id text not null,
    active_users integer not null,
    feature_events text not null,
    gated_attempts text not null,
    limit_hits integer not null,
    plan text not null,
    primary key (day, account_key)
);
create table if not exists pushed (
    seq integer primary key autoincrement,
    vendor text not null,
    kind text not null,
    key text,
    received_at real not null,
    body text not null
);
create index if not exists pushed_by_vendor on pushed (vendor, kind, seq);
create table if not exists truth (
    account_key integer not null,
    name text not null,
    day text not null,
    value real not null,
    primary key (account_key, name, day)
);
"""


@dataclass(frozen=True)
class VendorObject:
    """One object in a vendor's own shape, as a route will serve it."""

    vendor: str
    kind: str
    id: str
    created: float
    updated: float
    body: dict[str, Any]
    deleted: bool = False


class Sink:
    """What a renderer may do: upsert vendor objects, read their previous version, add events.

    This one writes at once (the server's write routes use it inside their own transaction);
    the generator's `BufferedSink` batches the same writes.
    """

    UPSERT = ("insert into objects (vendor, kind, id, created, updated, deleted, body) "
              "values (?, ?, ?, ?, ?, ?, ?) on conflict (vendor, kind, id) do update set "
              "updated = excluded.updated, deleted = excluded.deleted, body = excluded.body")
    APPEND = "insert into events (seq, vendor, id, type, created, body) values (?, ?, ?, ?, ?, ?)"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._last_seq: int | None = None

    def upsert(self, obj: VendorObject) -> None:
        self._conn.execute(self.UPSERT, _object_row(obj))

    def previous(self, vendor: str, kind: str, object_id: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "select body from objects where vendor = ? and kind = ? and id = ?",
            (vendor, kind, object_id),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def next_event_seq(self) -> int:
        """The `seq` the next appended event gets: events are numbered in the order they
        are appended, across the world, so an id derived from it is unique and the same
        for every run of a seed (see `stripe_events.event_object`)."""
        if self._last_seq is None:
            self._last_seq = int(self._conn.execute(
                "select coalesce(max(seq), 0) from events").fetchone()[0])
        return self._last_seq + 1

    def append_event(self, vendor: str, event_id: str, event_type: str, created: float,
                     body: dict[str, Any]) -> None:
        seq = self.next_event_seq()
        self._write_event((seq, vendor, event_id, event_type, created,
                           json.dumps(body, separators=(",", ":"))))
        self._last_seq = seq

    def _write_event(self, row: tuple[Any, ...]) -> None:
        self._conn.execute(self.APPEND, row)

    def put_usage(self, rows: list[dict[str, Any]]) -> None:
        """Store `UsageDay` rows (see `domain.UsageDay`), replacing any for the same day/account."""
        self._conn.executemany(
            "insert or replace into usage_daily values (?, ?, ?, ?, ?, ?, ?, ?)",
            [(r["day"], r["account_key"], r["workspace_id"], r["active_users"],
              json.dumps(r["feature_events"], separators=(",", ":")),
              json.dumps(r["gated_attempts"], separators=(",", ":")), r["limit_hits"], r["plan"])
             for r in rows],
        )


class BufferedSink(Sink):
    """A `Sink` that keeps writes in memory and sends them with one `executemany` per table
    (`flush`): a statement per object was most of the generator's write cost.

    Reads of a previous version see the buffered writes. The buffer is flushed when it holds
    `limit` writes, so memory stays bounded whatever a day or a fixture file holds.
    """

    def __init__(self, conn: sqlite3.Connection, limit: int = 20_000) -> None:
        super().__init__(conn)
        self._limit = limit
        self._objects: dict[tuple[str, str, str], tuple[Any, ...]] = {}
        self._events: list[tuple[Any, ...]] = []

    def upsert(self, obj: VendorObject) -> None:
        row = _object_row(obj)
        pending = self._objects.get(row[:3])
        if pending is not None:         # the stored creation time wins, as in the upsert
            row = (*row[:3], pending[3], *row[4:])
        self._objects[row[:3]] = row
        self._flush_if_full()

    def previous(self, vendor: str, kind: str, object_id: str) -> dict[str, Any] | None:
        pending = self._objects.get((vendor, kind, object_id))
        if pending is not None:
            return json.loads(pending[6])
        return super().previous(vendor, kind, object_id)

    def _write_event(self, row: tuple[Any, ...]) -> None:
        self._events.append(row)
        self._flush_if_full()

    def _flush_if_full(self) -> None:
        if len(self._objects) + len(self._events) >= self._limit:
            self.flush()

    def flush(self) -> None:
        """Write everything buffered (inside the caller's transaction)."""
        if self._objects:
            self._conn.executemany(self.UPSERT, list(self._objects.values()))
            self._objects.clear()
        if self._events:
            self._conn.executemany(self.APPEND, self._events)
            self._events.clear()


def _object_row(obj: VendorObject) -> tuple[Any, ...]:
    return (obj.vendor, obj.kind, obj.id, obj.created, obj.updated, int(obj.deleted),
            json.dumps(obj.body, separators=(",", ":")))


Renderer = Callable[[dict[str, Any], Sink], None]
"""Turns one canonical record (see `domain`) into vendor objects/events through the sink."""

_RENDERERS: dict[str, list[Renderer]] = {}


def register_renderer(kind: str, renderer: Renderer) -> None:
    """Called by each vendor module at import: `kind` is a canonical kind from `domain`."""
    _RENDERERS.setdefault(kind, []).append(renderer)


def connect(path: Path) -> sqlite3.Connection:
    """Open the world file, creating the schema; WAL so readers never block the writer."""
    conn = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
    conn.execute("pragma journal_mode = wal")
    conn.execute("pragma synchronous = normal")
    conn.executescript(SCHEMA)
    return conn


class WorldWriter:
    """The generator's and fixture loader's only way in: canonical records and usage rows.

    Writes are buffered (`BufferedSink`) and committed in one transaction per simulated day
    (`commit_day`), so a server reading concurrently sees whole days, and a killed generator
    leaves the last whole day. The transaction is taken for writing from its start
    (`begin immediate`): event numbers are read from the store while the day is simulated,
    so no route may append events in between (routes wait for the day to commit).
    """

    def __init__(self, path: Path) -> None:
        import integrations.sandbox.vendors  # noqa: F401  (registers every vendor's renderers)

        self.path = path
        self.conn = connect(path)
        self.conn.execute("pragma cache_size = -65536")
        self.sink = BufferedSink(self.conn)
        self.conn.execute("begin immediate")

    def put(self, kind: str, record: dict[str, Any]) -> None:
        for render in _RENDERERS.get(kind, ()):
            render(record, self.sink)

    def put_vendor_object(self, obj: VendorObject) -> None:
        self.sink.upsert(obj)

    def put_usage(self, rows: list[dict[str, Any]]) -> None:
        self.sink.put_usage(rows)

    def put_truth(self, rows: list[tuple[int, str, str, float]]) -> None:
        self.conn.executemany("insert or replace into truth values (?, ?, ?, ?)", rows)

    def set_meta(self, key: str, value: Any) -> None:
        self.conn.execute("insert or replace into meta values (?, ?)", (key, json.dumps(value)))

    def commit_day(self) -> None:
        self.sink.flush()
        self.conn.execute("commit")
        self.conn.execute("begin immediate")
        self.sink = BufferedSink(self.conn)    # events appended by routes meanwhile count

    def close(self) -> None:
        self.sink.flush()
        self.conn.execute("commit")
        self.conn.close()


class WorldReader:
    """Thread-safe read access for the server (one connection per thread)."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise FileNotFoundError(f"no sandbox world at {path}: run `csp sandbox generate`")
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.Lock()
        connect(path).close()

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
        return conn

    def meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("select value from meta where key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def get(self, vendor: str, kind: str, object_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            "select body from objects where vendor = ? and kind = ? and id = ?",
            (vendor, kind, object_id),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def scan(self, vendor: str, kind: str, *, order: str = "updated", after: tuple[float, str]
             | None = None, since: float | None = None, until: float | None = None,
             include_deleted: bool = True, descending: bool = False, limit: int = 100,
             ) -> list[tuple[float, str, dict[str, Any]]]:
        """A page of objects ordered by (`order`, id), strictly after the `after` position.

        `order` is "updated" or "created"; `since`/`until` bound that column (inclusive /
        exclusive). Returns (order value, id, body) triples so callers can build cursors.
        """
        if order not in ("updated", "created"):
            raise ValueError(order)
        clauses, params = ["vendor = ?", "kind = ?"], list[Any]([vendor, kind])
        if since is not None:
            clauses.append(f"{order} >= ?")
            params.append(since)
        if until is not None:
            clauses.append(f"{order} < ?")
            params.append(until)
        if not include_deleted:
            clauses.append("deleted = 0")
        if after is not None:
            op = "<" if descending else ">"
            clauses.append(f"({order}, id) {op} (?, ?)")
            params.extend(after)
        direction = "desc" if descending else "asc"
        rows = self.conn.execute(
            f"select {order}, id, body from objects where {' and '.join(clauses)} "
            f"order by {order} {direction}, id {direction} limit ?",
            (*params, limit),
        ).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    def count(self, vendor: str, kind: str, *, since: float | None = None,
              order: str = "updated", include_deleted: bool = True) -> int:
        clauses, params = ["vendor = ?", "kind = ?"], list[Any]([vendor, kind])
        if since is not None:
            clauses.append(f"{order} >= ?")
            params.append(since)
        if not include_deleted:
            clauses.append("deleted = 0")
        return self.conn.execute(
            f"select count(*) from objects where {' and '.join(clauses)}", params
        ).fetchone()[0]

    def object_kinds(self) -> list[tuple[str, str]]:
        """Every (vendor, kind) that has objects, for exports."""
        return [(r[0], r[1]) for r in self.conn.execute(
            "select distinct vendor, kind from objects order by vendor, kind")]

    def event_vendors(self) -> list[str]:
        return [r[0] for r in self.conn.execute("select distinct vendor from events order by 1")]

    def iter_events(self, vendor: str) -> Iterator[dict[str, Any]]:
        """A vendor's events oldest first (the order they must be replayed in)."""
        for (body,) in self.conn.execute(
            "select body from events where vendor = ? order by seq", (vendor,)
        ):
            yield json.loads(body)

    def iter_objects(self, vendor: str, kind: str) -> Iterator[dict[str, Any]]:
        for (body,) in self.conn.execute(
            "select body from objects where vendor = ? and kind = ? order by id", (vendor, kind)
        ):
            yield json.loads(body)

    def events(self, vendor: str, *, after_seq: int | None = None, before_seq: int | None = None,
               since: float | None = None, until: float | None = None,
               types: list[str] | None = None, descending: bool = True, limit: int = 100,
               ) -> list[tuple[int, dict[str, Any]]]:
        clauses, params = ["vendor = ?"], list[Any]([vendor])
        if after_seq is not None:
            clauses.append("seq > ?")
            params.append(after_seq)
        if before_seq is not None:
            clauses.append("seq < ?")
            params.append(before_seq)
        if since is not None:
            clauses.append("created >= ?")
            params.append(since)
        if until is not None:
            clauses.append("created < ?")
            params.append(until)
        if types:
            clauses.append(f"type in ({','.join('?' * len(types))})")
            params.extend(types)
        direction = "desc" if descending else "asc"
        rows = self.conn.execute(
            f"select seq, body from events where {' and '.join(clauses)} "
            f"order by seq {direction} limit ?",
            (*params, limit),
        ).fetchall()
        return [(r[0], json.loads(r[1])) for r in rows]

    def event_seq(self, vendor: str, event_id: str) -> int | None:
        row = self.conn.execute(
            "select seq from events where vendor = ? and id = ?", (vendor, event_id)
        ).fetchone()
        return row[0] if row else None

    def usage_days(self) -> list[tuple[str, int, int]]:
        """(day, accounts, active users summed over accounts) per day with usage, oldest first."""
        rows = self.conn.execute(
            "select day, count(*), sum(active_users) from usage_daily group by day order by day"
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def usage_rows(self, day: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "select day, account_key, workspace_id, active_users, feature_events, "
            "gated_attempts, limit_hits, plan from usage_daily where day = ? order by account_key",
            (day,),
        ).fetchall()
        return [
            {"day": r[0], "account_key": r[1], "workspace_id": r[2], "active_users": r[3],
             "feature_events": json.loads(r[4]), "gated_attempts": json.loads(r[5]),
             "limit_hits": r[6], "plan": r[7]}
            for r in rows
        ]

    # Writes from routes (what connectors push) are serialised: SQLite has one writer.

    def write_object(self, obj: VendorObject) -> None:
        with self._write_lock:
            self.conn.execute("begin immediate")
            try:
                Sink(self.conn).upsert(obj)
                self.conn.execute("commit")
            except BaseException:
                self.conn.execute("rollback")
                raise

    def record_push(self, vendor: str, kind: str, key: str | None, received_at: float,
                    body: dict[str, Any]) -> int:
        with self._write_lock:
            cur = self.conn.execute(
                "insert into pushed (vendor, kind, key, received_at, body) values (?, ?, ?, ?, ?)",
                (vendor, kind, key, received_at, json.dumps(body, separators=(",", ":"))),
            )
            return int(cur.lastrowid or 0)

    def pushed(self, vendor: str | None = None, kind: str | None = None,
               ) -> list[dict[str, Any]]:
        clauses, params = ["1 = 1"], []
        if vendor:
            clauses.append("vendor = ?")
            params.append(vendor)
        if kind:
            clauses.append("kind = ?")
            params.append(kind)
        rows = self.conn.execute(
            f"select seq, vendor, kind, key, received_at, body from pushed "
            f"where {' and '.join(clauses)} order by seq",
            params,
        ).fetchall()
        return [{"seq": r[0], "vendor": r[1], "kind": r[2], "key": r[3], "received_at": r[4],
                 "body": json.loads(r[5])} for r in rows]

    def mutate_objects(self, sql: str, params: tuple[Any, ...]) -> int:
        """Fault injection only: rewrite stored objects (e.g. many sharing one timestamp)."""
        with self._write_lock:
            cur = self.conn.execute(sql, params)
            return cur.rowcount
