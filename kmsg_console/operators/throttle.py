"""Login throttling: growing delays after repeated failures, per account and per client IP.

Counters are keyed by the e-mail as typed (normalised) whether or not an account exists, so
an unknown address behaves exactly like a known one with a wrong password.

An attempt is counted *before* its password is checked, in one transaction that holds the
counter rows (``SELECT ... FOR UPDATE`` on PostgreSQL, the write lock taken up front with
``BEGIN IMMEDIATE`` on SQLite), and committed before the check starts. Reading the counter,
checking the password and counting afterwards would let every attempt that arrives while
the first ones are still being checked read the same count: 20 parallel guesses against a
limit of 5 would get more than 5 checks. A good password then clears the counters.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from kmsg_console import sqlite_writers
from kmsg_console.extensions import THROTTLE_BIND, db
from kmsg_console.operators.models import LoginFailure
from kmsg_console.orm import utcnow

#: Delay after the first failure past the threshold; doubles with each further failure.
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
#: Failures older than this are forgotten, so a typo last week does not count today.
WINDOW = timedelta(hours=1)

_TABLE = LoginFailure.__table__


def _key(kind: str, value: str) -> str:
    # Hashed so the table never holds a list of the addresses people tried.
    return f"{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:40]


def throttle_keys(email: str, ip: str | None) -> list[tuple[str, int]]:
    """The counters one login attempt touches, each with its failure threshold."""
    config = current_app.config
    keys = [(_key("acct", email), config["LOGIN_MAX_FAILURES"])]
    if ip:
        keys.append((_key("ip", ip), config["LOGIN_MAX_FAILURES_PER_IP"]))
    return keys


def claim_attempt(keys: list[tuple[str, int]], now: datetime | None = None) -> timedelta | None:
    """Count one attempt on every key, or say how long it must wait.

    Returns None when the attempt may check its password (it has been counted as a failure
    already, and committed); otherwise the longest wait among the blocked keys, and nothing
    is counted. The attempt that reaches a key's threshold starts its delay, so attempts
    behind it are refused while it is still being checked.
    """
    now = now or utcnow()
    engine = db.engines[THROTTLE_BIND]
    names = sorted(key for key, _threshold in keys)  # one lock order: no deadlocks
    thresholds = dict(keys)
    with sqlite_writers.hold(engine), engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        postgres = engine.dialect.name == "postgresql"
        conn.exec_driver_sql("BEGIN" if postgres else "BEGIN IMMEDIATE")
        try:
            wait = _count(conn, names, thresholds, now, postgres)
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT" if wait is None else "ROLLBACK")
    return wait


def _count(
    conn: sa.Connection,
    names: list[str],
    thresholds: dict[str, int],
    now: datetime,
    postgres: bool,
) -> timedelta | None:
    insert = postgresql.insert if postgres else sqlite.insert
    conn.execute(
        insert(_TABLE)
        .values([{"key": name, "failures": 0, "last_failure_at": now} for name in names])
        .on_conflict_do_nothing()
    )
    query = sa.select(_TABLE).where(_TABLE.c.key.in_(names)).order_by(_TABLE.c.key)
    rows = conn.execute(query.with_for_update() if postgres else query).all()
    waits = [
        row.blocked_until - now for row in rows if row.blocked_until and row.blocked_until > now
    ]
    if waits:
        return max(waits)
    for row in rows:
        failures = 1 if now - row.last_failure_at > WINDOW else row.failures + 1
        blocked_until = row.blocked_until
        excess = failures - thresholds[row.key]
        if excess >= 0:
            blocked_until = now + min(BASE_DELAY * (2 ** min(excess, 16)), MAX_DELAY)
        conn.execute(
            sa.update(_TABLE)
            .where(_TABLE.c.key == row.key)
            .values(failures=failures, last_failure_at=now, blocked_until=blocked_until)
        )
    return None


def record_success(keys: list[tuple[str, int]]) -> None:
    """Forget the failures of the account (and of the IP) after a good login."""
    for key, _threshold in keys:
        row = db.session.get(LoginFailure, key)
        if row is not None:
            db.session.delete(row)
