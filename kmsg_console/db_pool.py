"""Pooled database connections are checked before use only when they sat idle.

``pool_pre_ping`` sends a ping on every checkout: on PostgreSQL an OTP start checks out two
connections (the request's session and the throttle's), so two extra round trips, about 8 %
of a start's CPU (``bench/otp_profile.py``). A connection handed back a moment ago and taken
again under load has had no time to go stale; one that waited in the pool may have lost its
server (a restart, a failover, an idle timeout). So a connection idle for ``IDLE_PING_SECONDS``
or longer is pinged at checkout and, if its server is gone, replaced before the request
uses it; the rest go straight to work (pgbouncer's ``server_check_delay`` works the same way).
A server lost under steady load surfaces as a disconnect error on the statement in flight,
which SQLAlchemy answers by discarding the whole pool, so the next checkouts reconnect.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

#: Idle time after which a pooled connection is pinged before reuse.
IDLE_PING_SECONDS = 1.0
_IDLE_SINCE = "kmsg_idle_since"


def ping_when_idle(engine: sa.Engine) -> None:
    """Install the checkout check on ``engine``'s pool (not SQLite: a file does not go away)."""
    if engine.dialect.name == "sqlite":
        return

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return  # new, or back in the pool only a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, dbapi_connection, None):
                # The pool discards this connection and checks out (or opens) another.
                raise sa.exc.DisconnectionError(str(exc)) from exc
            raise
