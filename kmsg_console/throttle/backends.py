"""Counter stores for throttle decisions: the database (default) and Redis.

Both make one decision atomic and exact under concurrency:

- PostgreSQL: a counting decision is one call of ``kmsg_throttle_decide`` (created by a
  migration) on the throttle's own pooled connection: it checks the cached policy version,
  creates missing counter rows with ``INSERT ... ON CONFLICT DO NOTHING``, locks every row
  the decision touches with ``SELECT ... FOR UPDATE`` in key order (a fixed order, so two
  decisions never deadlock), judges and writes them, all inside the database. Dry runs read
  in a transaction and write nothing.
- SQLite: one transaction on a connection that takes the write lock up front with
  ``BEGIN IMMEDIATE``. A deferred transaction that reads and then writes can fail in WAL
  mode with "database is locked" instead of waiting; an immediate one waits (busy_timeout).
- Redis: one Lua script per decision (atomic on the server) that also checks the cached
  policy version, so the hot path is a single round trip.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.dialects import postgresql, sqlite

from kmsg_console import sqlite_writers
from kmsg_console.extensions import THROTTLE_BIND, db
from kmsg_console.throttle import engine as throttle_engine
from kmsg_console.throttle.core import (
    Plan,
    PolicySet,
    ThrottleContext,
    ThrottleDecision,
    plan_request,
    read_version,
)
from kmsg_console.throttle.engine import Runtime, ThrottleUnavailable
from kmsg_console.throttle.gcra import (
    CounterView,
    SlotResult,
    Window,
    build_decision,
    counter_view,
    evaluate,
    event_rows,
    to_us,
)
from kmsg_console.throttle.models import ThrottleCounter, ThrottleEvent

logger = logging.getLogger(__name__)

COUNTER = ThrottleCounter.__table__
EVENT = ThrottleEvent.__table__


def make_backend(app: Flask) -> SqlBackend | RedisBackend:
    """Redis when ``KMSG_REDIS_URL`` is set, else the app's database."""
    engine = db.engines[THROTTLE_BIND]
    if app.config.get("REDIS_URL"):
        return RedisBackend(
            app.config["REDIS_URL"], app.config.get("REDIS_PREFIX") or "kmsg:", engine
        )
    return SqlBackend(engine)


def upsert(dialect: str):
    """The dialect's ``insert`` with ``on_conflict_do_*`` (SQLite and PostgreSQL)."""
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"throttle counters need SQLite or PostgreSQL, not {dialect}")


def insert_events(conn: sa.Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(EVENT.insert(), rows)


# The hot path's SQL, one string per number of counters (a decision touches a handful), so
# nothing is rendered per call.
WRITE_SQL = """
INSERT INTO throttle_counter (key, window_id, tat_us, interval_us, seen_us, key_masked)
VALUES {rows}
ON CONFLICT (key) DO UPDATE SET tat_us = excluded.tat_us, interval_us = excluded.interval_us,
    seen_us = excluded.seen_us"""
READ_SQL = "SELECT key, tat_us, interval_us, seen_us FROM throttle_counter WHERE key IN ({keys})"
VERSION_SQL = "SELECT version FROM throttle_policy_version WHERE id = 1"
GIVE_BACK_SQL = "UPDATE throttle_counter SET tat_us = tat_us - interval_us WHERE key = {key}"
#: PostgreSQL: a counting decision as one call of the function its migration creates
#: (20261207_0500_9b3e6f1c7d20_throttle_decide_function.py).
DECIDE_SQL = (
    "SELECT kmsg_throttle_decide(%(version)s::bigint, %(now)s::bigint, %(keys)s::text[],"
    " %(windows)s::integer[], %(intervals)s::bigint[], %(limits)s::bigint[],"
    " %(groups)s::integer[], %(masked)s::text[])"
)
ROW_FIELDS = ("k", "w", "t", "i", "s", "m")  # key, window, TAT, interval, seen, masked key
#: Pool connection ``info`` key: this connection's commits do not wait for the disk.
SOFT_COMMITS = "kmsg_throttle_soft_commits"


class SqlBackend:
    """Counters in the ``throttle_counter`` table."""

    name = "sql"

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        upsert(self.dialect)  # refuses other databases early
        self.dbapi_error = engine.dialect.loaded_dbapi.Error
        self._mark = "%({})s" if self.dialect == "postgresql" else ":{}"
        self._sql: dict[tuple[str, int], str] = {}

    def sql(self, template: str, count: int) -> str:
        """``template`` with ``count`` parameterised rows, in the driver's placeholder style."""
        key = (template, count)
        text = self._sql.get(key)
        if text is None:
            rows = ", ".join(
                "(" + ", ".join(self._mark.format(f"{f}{n}") for f in ROW_FIELDS) + ")"
                for n in range(count)
            )
            text = self._sql[key] = template.format(rows=rows)
        return text

    def read_sql(self, count: int) -> str:
        key = (READ_SQL, count)
        text = self._sql.get(key)
        if text is None:
            marks = ", ".join(self._mark.format(f"k{n}") for n in range(count))
            text = self._sql[key] = READ_SQL.format(keys=marks)
        return text

    def run(
        self, conn: sa.Connection, statement: str, params: dict[str, object] | None = None
    ) -> list[Any]:
        """Execute ``statement`` on the driver's own cursor and return its rows.

        A decision is a handful of fixed statements whose rows are plain integers and strings:
        none of SQLAlchemy's per-statement machinery (execution context, result metadata,
        type processing) is needed, and skipping it is most of a decision's CPU time. Driver
        errors come back as SQLAlchemy's (``OperationalError``, ``IntegrityError``, ...), and a
        connection the database dropped is invalidated, as ``Connection.execute`` does.
        """
        driver = conn.connection.driver_connection
        try:
            if params is None:
                cursor = driver.execute(statement)
            else:
                cursor = driver.execute(statement, params)
            rows = cursor.fetchall() if cursor.description is not None else []
            cursor.close()
        except self.dbapi_error as exc:
            if self.engine.dialect.is_disconnect(exc, conn.connection.dbapi_connection, None):
                conn.invalidate(exc)
            raise sa.exc.DBAPIError.instance(
                statement, params, exc, self.dbapi_error, dialect=self.engine.dialect
            ) from exc
        return rows

    @staticmethod
    def params(rows: list[tuple[str, int, int, int, int, str]]) -> dict[str, object]:
        return {
            f"{field}{n}": value
            for n, row in enumerate(rows)
            for field, value in zip(ROW_FIELDS, row, strict=True)
        }

    @contextmanager
    def connection(self) -> Iterator[sa.Connection]:
        """A pooled connection on which we issue BEGIN and COMMIT ourselves.

        Counters are soft state: their commits do not wait for the disk. PostgreSQL keeps
        them crash-consistent (a crash loses the last few hundred ms of counting), and SQLite
        in WAL mode with synchronous=NORMAL cannot corrupt the file. On SQLite that is set
        once per connection of the throttle's own engine (only counters and the block log
        are written through it), so the send path's commits on the app's engine keep
        waiting for the disk.
        """
        with self.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            if not conn.connection.info.get(SOFT_COMMITS):
                # Only counters and the block log are written on this engine's connections.
                soft = "PRAGMA synchronous=NORMAL" if self.dialect == "sqlite" else (
                    "SET synchronous_commit TO OFF")  # fmt: skip
                self.run(conn, soft)
                conn.connection.info[SOFT_COMMITS] = True
            yield conn

    def begin(self, conn: sa.Connection, write: bool) -> None:
        if self.dialect == "sqlite":
            # IMMEDIATE takes the write lock now: a deferred transaction that reads and then
            # writes can fail in WAL mode with "database is locked" instead of waiting.
            self.run(conn, "BEGIN IMMEDIATE" if write else "BEGIN")
        else:  # PostgreSQL: only dry runs come here (counting decisions call the function)
            self.run(conn, "BEGIN")

    def end(self, conn: sa.Connection, statement: str) -> None:
        self.run(conn, statement)

    def read_version(self, conn: sa.Connection) -> int:
        rows = self.run(conn, VERSION_SQL)
        return (rows[0][0] if rows else 0) or 0

    def decide(
        self, runtime: Runtime, action: str, ctx: ThrottleContext, now: datetime, dry_run: bool
    ) -> ThrottleDecision:
        if self.dialect == "postgresql" and not dry_run:
            return self._decide_in_postgresql(runtime, action, ctx, now)
        # A decision that counts is a write transaction: on SQLite it queues with the send
        # path's writers (sqlite_writers) instead of polling for the write lock.
        queue = nullcontext() if dry_run else sqlite_writers.hold(self.engine)
        # Planned before the queue with the cached policy set (SQLite holds the database's
        # write lock for the rest); used only if the version read in the transaction agrees.
        cached = runtime.policies
        planned = (
            (cached, plan_request(cached, action, ctx, runtime.hasher()))
            if cached is not None
            else None
        )
        try:
            with queue, self.connection() as conn:
                for _attempt in range(4):
                    self.begin(conn, write=not dry_run)
                    try:
                        decision = self._decide(conn, runtime, action, ctx, now, dry_run, planned)
                    except sa.exc.IntegrityError:
                        # A window was deleted after it was planned: reload and redo.
                        self.end(conn, "ROLLBACK")
                        runtime.policies = None
                        continue
                    except BaseException:
                        self.end(conn, "ROLLBACK")
                        raise
                    self.end(conn, "COMMIT")
                    return decision
        except sa.exc.OperationalError as exc:
            raise ThrottleUnavailable(str(exc.orig)) from exc
        raise ThrottleUnavailable("the policy version does not settle")

    def _decide_in_postgresql(
        self, runtime: Runtime, action: str, ctx: ThrottleContext, now: datetime
    ) -> ThrottleDecision:
        """A counting decision on PostgreSQL: one statement that locks, judges and writes.

        Every OTP start and API send counts on the global cap's row. Locked by one
        statement, judged here and written with the COMMIT, that row stayed locked while its
        thread waited for the interpreter lock among many request threads, and the other
        decisions queued on it. ``kmsg_throttle_decide`` does the same inside PostgreSQL
        (``gcra.gcra`` and the Redis script are the same algorithm), so the rows are locked
        for microseconds. Planned with the cached policy set; the function checks its
        version and the decision is planned again when it was stale.
        """
        try:
            with self.connection() as conn:
                for _attempt in range(4):
                    policies = runtime.policies
                    if policies is None:
                        policies = runtime.policies_for(self.read_version(conn), conn)
                    plan = plan_request(policies, action, ctx, runtime.hasher())
                    try:
                        results = self._judge_in_postgresql(conn, plan, to_us(now))
                    except sa.exc.IntegrityError:
                        results = None  # a window was deleted after it was planned
                    if results is None:
                        runtime.policies = None
                        continue
                    decision = build_decision(plan, results, dry_run=False)
                    events = event_rows(plan, decision, now)
                    if events:
                        insert_events(conn, events)
                    return decision
        except sa.exc.OperationalError as exc:
            raise ThrottleUnavailable(str(exc.orig)) from exc
        raise ThrottleUnavailable("the policy version does not settle")

    def _judge_in_postgresql(
        self, conn: sa.Connection, plan: Plan, now_us: int
    ) -> list[SlotResult] | None:
        """The plan's counters judged and counted by ``kmsg_throttle_decide``, in plan order;
        None when the plan's policy version is stale."""
        if not plan.slots:  # listed, or no rule applies: only the version to check
            return [] if self.read_version(conn) == plan.version else None
        order = sorted(range(len(plan.slots)), key=lambda n: plan.slots[n].key)
        slots = [plan.slots[n] for n in order]
        answer = self.run(conn, DECIDE_SQL, {
            "version": plan.version,
            "now": now_us,
            "keys": [slot.key for slot in slots],
            "windows": [slot.window.id for slot in slots],
            "intervals": [slot.window.interval_us for slot in slots],
            "limits": [slot.window.max_requests for slot in slots],
            "groups": [slot.group for slot in slots],
            "masked": [slot.masked for slot in slots],
        })[0][0]  # fmt: skip
        if answer[0] == -1:
            return None
        results: list[SlotResult] = [None] * len(slots)  # type: ignore[list-item]
        for position, n in enumerate(order):
            allowed, retry_us, remaining = answer[1 + 3 * position : 4 + 3 * position]
            results[n] = SlotResult(bool(allowed), retry_us, remaining, 0)
        return results

    def _decide(
        self,
        conn: sa.Connection,
        runtime: Runtime,
        action: str,
        ctx: ThrottleContext,
        now: datetime,
        dry_run: bool,
        planned: tuple[PolicySet, Plan] | None = None,
    ) -> ThrottleDecision:
        # SQLite decisions hold the write lock already, and dry runs write nothing: the
        # policy version read first is the one the decision is made with.
        policies = runtime.policies_for(self.read_version(conn), conn)
        if planned is not None and planned[0] is policies:
            plan = planned[1]
        else:
            plan = plan_request(policies, action, ctx, runtime.hasher())
        states = self._read(conn, plan) if plan.slots else {}
        results = evaluate(plan, states, to_us(now))
        decision = build_decision(plan, results, dry_run=dry_run)
        if not dry_run:
            self._write(conn, plan, results)
            events = event_rows(plan, decision, now)
            if events:
                insert_events(conn, events)
        return decision

    def _read(self, conn: sa.Connection, plan: Plan) -> dict[str, tuple[int, int, int]]:
        keys = {f"k{n}": slot.key for n, slot in enumerate(plan.slots)}
        return {
            row[0]: (row[1], row[2], row[3])
            for row in self.run(conn, self.read_sql(len(keys)), keys)
        }

    def _write(self, conn: sa.Connection, plan: Plan, results: list[SlotResult]) -> None:
        rows = sorted(
            (
                slot.key,
                slot.window.id,
                result.new_tat,
                slot.window.interval_us,
                result.seen_us,
                slot.masked,
            )
            for slot, result in zip(plan.slots, results, strict=True)
            if result.commit
        )
        if rows:
            self.run(conn, self.sql(WRITE_SQL, len(rows)), self.params(rows))

    def give_back(self, keys: tuple[str, ...]) -> None:
        """One interval off each counter, all in one transaction.

        The counter's stored interval is the unit: a decision that rescaled the row after an
        edited window wrote the new one with it. In key order, as decisions lock their rows.
        """
        statement = GIVE_BACK_SQL.format(key=self._mark.format("key"))
        try:
            with sqlite_writers.hold(self.engine), self.connection() as conn:
                self.begin(conn, write=True)
                try:
                    for key in sorted(keys):
                        self.run(conn, statement, {"key": key})
                except BaseException:
                    self.end(conn, "ROLLBACK")
                    raise
                self.end(conn, "COMMIT")
        except sa.exc.OperationalError as exc:
            raise ThrottleUnavailable(str(exc.orig)) from exc

    def counters(self, windows: list[Window], now: datetime, limit: int) -> list[CounterView]:
        by_id = {window.id: window for window in windows}
        now_us = to_us(now)
        query = (
            sa.select(
                COUNTER.c.window_id, COUNTER.c.key_masked, COUNTER.c.tat_us, COUNTER.c.interval_us
            )
            .where(COUNTER.c.window_id.in_(list(by_id)), COUNTER.c.tat_us > now_us)
            .order_by(COUNTER.c.tat_us.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        views = (
            counter_view(by_id[r.window_id], r.key_masked, r.tat_us, r.interval_us, now_us)
            for r in rows
        )
        return [view for view in views if view is not None]

    def publish_version(self, version: int) -> None:
        """Nothing to do: every decision reads the version row in its own transaction."""

    def purge(self, now: datetime) -> int:
        """Delete counters that are back to idle (their state equals "no row")."""
        with self.engine.begin() as conn:
            return conn.execute(COUNTER.delete().where(COUNTER.c.tat_us < to_us(now))).rowcount


# KEYS[1]: policy version; KEYS[2..]: counter hashes {t = TAT, i = interval, s = last time
# judged at, m = masked key}.
# ARGV[1]: the caller's cached policy version, ARGV[2]: now (µs), ARGV[3]: "1" for a dry run,
# then per counter: interval (µs), max requests, group ("0" = enforce), masked key.
# Numbers stay below 2^53, so Lua's doubles hold them exactly; they are written with %.0f
# because tostring() would round them to 14 significant digits.
DECIDE_LUA = """
local current = redis.call('GET', KEYS[1])
if current ~= ARGV[1] then return {-1} end
local out, new, seen, ok = {1}, {}, {}, {}
for i = 2, #KEYS do
  local base = 4 * (i - 1)
  local iv = tonumber(ARGV[base])
  local cap = tonumber(ARGV[base + 1]) * iv
  local group = ARGV[base + 2]
  local state = redis.call('HMGET', KEYS[i], 't', 'i', 's')
  local tat = tonumber(state[1]) or 0
  local old = tonumber(state[2]) or iv
  local now = math.max(tonumber(ARGV[2]), tonumber(state[3]) or 0)
  seen[i] = now
  if tat > now and old ~= iv then tat = now + math.floor((tat - now) * iv / old) end
  if tat < now then tat = now end
  local nt = tat + iv
  new[i] = nt
  if nt - now <= cap then
    out[#out + 1] = 1; out[#out + 1] = 0; out[#out + 1] = math.floor((now + cap - nt) / iv)
    if ok[group] == nil then ok[group] = true end
  else
    out[#out + 1] = 0; out[#out + 1] = nt - cap - now; out[#out + 1] = 0
    ok[group] = false
  end
end
if ARGV[3] ~= '1' and ok['0'] ~= false then
  for i = 2, #KEYS do
    local base = 4 * (i - 1)
    if ok[ARGV[base + 2]] then
      redis.call('HSET', KEYS[i], 't', string.format('%.0f', new[i]), 'i', ARGV[base],
                 's', string.format('%.0f', seen[i]), 'm', ARGV[base + 3])
      redis.call('PEXPIREAT', KEYS[i], string.format('%.0f', math.ceil(new[i] / 1000) + 1))
    end
  end
end
return out
"""

# One interval off each counter KEYS[i] that still exists (an expired one is idle already).
GIVE_BACK_LUA = """
for i = 1, #KEYS do
  local state = redis.call('HMGET', KEYS[i], 't', 'i')
  local tat, iv = tonumber(state[1]), tonumber(state[2])
  if tat and iv then
    redis.call('HSET', KEYS[i], 't', string.format('%.0f', tat - iv))
  end
end
return 0
"""

# Raise the shared version to ARGV[1] (or set it outright when ARGV[2] is "1").
PUBLISH_LUA = """
local current = tonumber(redis.call('GET', KEYS[1]))
local wanted = tonumber(ARGV[1])
if current == nil or current < wanted or ARGV[2] == '1' then
  redis.call('SET', KEYS[1], ARGV[1])
  return wanted
end
return current
"""


class RedisBackend:
    """Counters in Redis; the policy set and the block log stay in the database."""

    name = "redis"

    def __init__(self, url: str, prefix: str, engine: sa.Engine) -> None:
        import redis

        self.redis_errors = (redis.RedisError,)
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix
        self.engine = engine
        self.version_key = f"{prefix}throttle:version"
        self._decide = self.client.register_script(DECIDE_LUA)
        self._publish = self.client.register_script(PUBLISH_LUA)
        self._give_back = self.client.register_script(GIVE_BACK_LUA)

    def counter_key(self, key: str) -> str:
        return f"{self.prefix}throttle:c:{key}"

    def decide(
        self, runtime: Runtime, action: str, ctx: ThrottleContext, now: datetime, dry_run: bool
    ) -> ThrottleDecision:
        now_us = to_us(now)
        try:
            policies = runtime.policies
            stale_after = throttle_engine.SQL_REVALIDATE_SECONDS
            if policies is None or time.monotonic() - runtime.checked_at > stale_after:
                policies = self.sync(runtime)
            for _attempt in range(3):
                plan = plan_request(policies, action, ctx, runtime.hasher())
                reply = self._run(plan, now_us, dry_run)
                if reply is not None:
                    break
                policies = self.sync(runtime)
            else:
                raise ThrottleUnavailable("the policy version in Redis does not settle")
        except self.redis_errors as exc:
            raise ThrottleUnavailable(str(exc)) from exc
        decision = build_decision(plan, reply, dry_run=dry_run)
        rows = event_rows(plan, decision, now)
        if rows:
            with self.engine.begin() as conn:
                insert_events(conn, rows)
        return decision

    def _run(self, plan: Plan, now_us: int, dry_run: bool) -> list[SlotResult] | None:
        args: list[object] = [plan.version, now_us, 1 if dry_run else 0]
        for slot in plan.slots:
            args += [slot.window.interval_us, slot.window.max_requests, slot.group, slot.masked]
        raw = self._decide(
            keys=[self.version_key] + [self.counter_key(s.key) for s in plan.slots], args=args
        )
        if raw[0] == -1:
            return None
        flat = [int(x) for x in raw[1:]]
        results = [
            SlotResult(bool(flat[3 * i]), flat[3 * i + 1], flat[3 * i + 2], 0)
            for i in range(len(plan.slots))
        ]
        return results

    def sync(self, runtime: Runtime):
        """Reload the policy set from the database and make Redis carry its version."""
        with self.engine.connect() as conn:
            version = read_version(conn)
            policies = runtime.policies_for(version, conn)
        runtime.checked_at = time.monotonic()
        if int(self._publish(keys=[self.version_key], args=[version, 0])) != version:
            # Redis is ahead of the database (restored backup, emptied tables): the database wins.
            self._publish(keys=[self.version_key], args=[version, 1])
        return policies

    def publish_version(self, version: int) -> None:
        self._publish(keys=[self.version_key], args=[version, 0])

    def give_back(self, keys: tuple[str, ...]) -> None:
        try:
            self._give_back(keys=[self.counter_key(key) for key in keys])
        except self.redis_errors as exc:
            raise ThrottleUnavailable(str(exc)) from exc

    def counters(self, windows: list[Window], now: datetime, limit: int) -> list[CounterView]:
        now_us = to_us(now)
        views: list[CounterView] = []
        for window in windows:
            pattern = self.counter_key(f"{window.id}:*")
            for name in self.client.scan_iter(match=pattern, count=500):
                tat, interval, masked = self.client.hmget(name, "t", "i", "m")
                if tat is None:
                    continue
                view = counter_view(
                    window, (masked or b"").decode(), int(tat), int(interval or 0), now_us
                )
                if view is not None:
                    views.append(view)
                if len(views) >= limit * 4:
                    break
        views.sort(key=lambda view: view.idle_at, reverse=True)
        return views[:limit]

    def purge(self, now: datetime) -> int:
        """Nothing to do: Redis expires idle counters itself."""
        return 0
